import type { ContractsOf } from './contract.js';
import { ANALYTICS_COMMAND_CONTRACTS, type AnalyticsCommands } from './analytics.commands.js';
import { EXPORT_COMMAND_CONTRACTS, type ExportCommands } from './export.commands.js';
import { FOLLOWUP_COMMAND_CONTRACTS, type FollowupCommands } from './followup.commands.js';
import { GEO_COMMAND_CONTRACTS, type GeoCommands } from './geo.commands.js';
import { NOOP_COMMAND_CONTRACTS, type NoopCommands } from './job.commands.js';
import { PACKAGE_COMMAND_CONTRACTS, type PackageCommands } from './package.commands.js';

/** Every command, by routing key. A service consumes the commands whose key starts with its name. */
export interface Commands extends NoopCommands, GeoCommands, ExportCommands, PackageCommands, AnalyticsCommands, FollowupCommands {}

export type CommandKey = keyof Commands;

export const COMMAND_CONTRACTS: ContractsOf<Commands> = {
  ...NOOP_COMMAND_CONTRACTS,
  ...GEO_COMMAND_CONTRACTS,
  ...EXPORT_COMMAND_CONTRACTS,
  ...PACKAGE_COMMAND_CONTRACTS,
  ...ANALYTICS_COMMAND_CONTRACTS,
  ...FOLLOWUP_COMMAND_CONTRACTS,
};
