import { prologDeclaresEntities, xmlPrologEnd } from './xml-prolog.js';

describe('xmlPrologEnd', () => {
  it('finds the first element past the declaration, comments, processing instructions and a DOCTYPE', () => {
    const prolog = '<?xml version="1.0"?>\n<!-- a <comment> -->\n<?pi x?><!DOCTYPE kml>';
    expect(xmlPrologEnd(`${prolog}<kml/>`)).toBe(prolog.length);
  });

  it('steps over an internal subset holding ">"', () => {
    const prolog = '<!DOCTYPE kml [<!ENTITY a "x"><!ENTITY b "y">]>';
    expect(xmlPrologEnd(`${prolog}<kml>&a;</kml>`)).toBe(prolog.length);
  });

  it('is undefined while the text ends inside the prolog', () => {
    expect(xmlPrologEnd('<?xml version="1.0"?><!-- unfinished')).toBeUndefined();
    expect(xmlPrologEnd('<!DOCTYPE kml [<!ENTITY a "x">')).toBeUndefined();
    expect(xmlPrologEnd('   ')).toBeUndefined();
  });
});

describe('prologDeclaresEntities', () => {
  it.each([
    ['<!DOCTYPE kml [<!ENTITY xxe SYSTEM "file:///etc/passwd">]>', true],
    ['<!DOCTYPE kml SYSTEM "http://10.0.0.1/kml.dtd">', true],
    ['<!DOCTYPE kml PUBLIC "-//x//y" "http://10.0.0.1/kml.dtd">', true],
    ['<!DOCTYPE kml [<!entity lol "lol">]>', true],
    ['<?xml version="1.0"?><!DOCTYPE kml>', false],
    ['<?xml version="1.0"?>', false],
  ])('%s → %s', (prolog, declares) => {
    expect(prologDeclaresEntities(prolog)).toBe(declares);
  });
});
