import { boundaryName } from './boundary-name.js';

describe('boundaryName', () => {
  it('lower-cases and keeps letters, digits and ._-', () => {
    expect(boundaryName('GMB')).toBe('gmb');
    expect(boundaryName('south-sudan.v2')).toBe('south-sudan.v2');
  });

  it('makes runs of other characters one _, drops accents, and trims separators', () => {
    expect(boundaryName("Côte d'Ivoire")).toBe('cote_d_ivoire');
    expect(boundaryName('  Bosnia & Herzegovina ')).toBe('bosnia_herzegovina');
  });

  it('gives nothing for an empty or unusable value', () => {
    expect(boundaryName(null)).toBeUndefined();
    expect(boundaryName('')).toBeUndefined();
    expect(boundaryName('***')).toBeUndefined();
  });
});
