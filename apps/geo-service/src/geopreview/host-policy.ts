// Moved to libs/shared (the gateway's webhooks obey the same policy); re-exported for geo-service's imports.
export { AllowListEntries, HostPolicy, isAllowListEntry, isPublicAddress } from '#shared';
