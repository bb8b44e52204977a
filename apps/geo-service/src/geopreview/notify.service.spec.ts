import { ckanCallbackBody, shapeInfo } from './notify.service.js';

describe('the CKAN callback of a geopreview', () => {
  const layer = {
    layerId: 'pre_abc_1',
    bounding_box: 'BOX(2.5 49.5,6.1 51.4)',
    layer_fields: [
      { field_name: 'ogc_fid', data_type: 'integer' },
      { field_name: 'name', data_type: 'character varying' },
    ],
    featureCount: 3,
  };

  it("is the body HDX's job processor posted, byte for byte, on success", () => {
    expect(ckanCallbackBody({ resourceId: 'abc-1' }, { result: layer })).toBe(
      '{"id": "abc-1", "shape_info": "{\\"state\\": \\"success\\", \\"message\\": \\"Import successful\\", \\"layer_id\\": \\"pre_abc_1\\", ' +
        '\\"error_type\\": \\"None\\", \\"error_class\\": \\"None\\", \\"bounding_box\\": \\"BOX(2.5 49.5,6.1 51.4)\\", ' +
        '\\"layer_fields\\": [{\\"field_name\\": \\"ogc_fid\\", \\"data_type\\": \\"integer\\"}, {\\"field_name\\": \\"name\\", \\"data_type\\": \\"character varying\\"}]}", ' +
        '"batch_mode": "KEEP_OLD"}',
    );
  });

  it('names the failure, its stage and its class, and the layer id the resource would have had', () => {
    expect(shapeInfo({ resourceId: 'abc-1' }, { error: { type: 'download', class: 'FileTooLargeError', message: 'too big' } })).toEqual({
      state: 'failure',
      message: 'too big',
      layer_id: 'pre_abc_1',
      error_type: 'download',
      error_class: 'FileTooLargeError',
    });
  });

  it('describes a multi-layer upload by its first layer', () => {
    const second = { ...layer, layerId: 'pre_abc_1__b' };
    expect(shapeInfo({ resourceId: 'abc-1' }, { result: { layerId: 'pre_abc_1__a', layers: [{ ...layer, layerId: 'pre_abc_1__a' }, second] } })).toMatchObject({
      layer_id: 'pre_abc_1__a',
      bounding_box: layer.bounding_box,
    });
  });
});
