/**
 * What the tests and the benchmarks both use, kept here so that neither imports the other: free ports, local
 * stand-ins for the analytics destinations, the generated points layer, and the one polling helper.
 */
export * from './analytics-destinations.js';
export * from './free-port.js';
export * from './points.js';
export * from './wait-for.js';
