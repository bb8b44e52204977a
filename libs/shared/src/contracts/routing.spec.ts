import { commandsRoutedTo } from './command-routing.js';
import { topicMatches } from './routing.js';

describe('routing', () => {
  it.each([
    ['geo.#', 'geo.preview.merge', true],
    ['geo.#', 'geo', true],
    ['geo.#', 'geography.preview', false],
    ['geo.*', 'geo.preview', true],
    ['geo.*', 'geo.preview.merge', false],
    ['*.noop', 'export.noop', true],
    ['#.merge', 'geo.preview.merge', true],
    ['#', 'anything.at.all', true],
    ['job.started', 'job.started', true],
    ['job.started', 'job.succeeded', false],
  ])('a binding of %s receives %s: %s, as a topic exchange decides', (pattern, key, routed) => {
    expect(topicMatches(pattern, key)).toBe(routed);
  });

  it('knows the commands each work queue receives from its bindings', () => {
    expect(commandsRoutedTo('geo_q').sort()).toEqual(['geo.layer.delete', 'geo.noop', 'geo.preview', 'geo.preview.merge']);
    expect(commandsRoutedTo('export_q').sort()).toEqual([
      'export.convert',
      'export.dataset',
      'export.dataset.merge',
      'export.layers',
      'export.noop',
      'export.resource',
    ]);
    expect(commandsRoutedTo('analytics_q').sort()).toEqual(['analytics.noop', 'analytics.track']);
    expect(commandsRoutedTo('followup_q').sort()).toEqual(['followup.ckan-callback', 'followup.run']);
  });
});
