/** The local Mixpanel and GA4 servers live with the benchmarks, which run from dist; tests use the same ones. */
export * from '../../bench/support/analytics-destinations.js';
