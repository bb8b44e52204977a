import 'maplibre-gl/dist/maplibre-gl.css';
import { Map as MapLibreMap, NavigationControl, setWorkerUrl } from 'maplibre-gl';
import workerUrl from 'maplibre-gl/dist/maplibre-gl-worker.mjs?url';
import { useEffect, useRef, useState } from 'preact/hooks';
import { bboxOf, currentSession, layers as layersApi, type Layer } from '../api';
import { Alert } from '../components';
import { layerStyle } from '../map-style';

// MapLibre's worker, emitted by Vite as an asset of the build (it looks for it next to its own module otherwise)
setWorkerUrl(workerUrl);

export function LayerPage({ id }: { id: string }) {
  const [layer, setLayer] = useState<Layer | null>(null);
  const [error, setError] = useState<string | null>(null);
  const [drawn, setDrawn] = useState(false);
  const container = useRef<HTMLDivElement>(null);

  useEffect(() => {
    setLayer(null);
    setError(null);
    layersApi.get(id).then(setLayer, (failure: Error) => setError(failure.message));
  }, [id]);

  useEffect(() => {
    if (!layer || !container.current) return;
    const bounds = bboxOf(layer.bounding_box);
    const map = new MapLibreMap({
      container: container.current,
      style: layerStyle(layer.layerId, layer.tiles, layer.geometryType),
      bounds: bounds ?? undefined,
      fitBoundsOptions: { padding: 24, maxZoom: 16 },
      attributionControl: false,
      // kept so the picture can be read back (a screenshot, the browser tests' check that features were drawn)
      canvasContextAttributes: { preserveDrawingBuffer: true },
      // tiles may need a credential (GEOJOBS_PUBLIC_TILES=false): the session's, to the gateway only
      transformRequest: (url) => {
        const session = currentSession();
        return session && new URL(url).origin === location.origin ? { url, headers: { authorization: `Bearer ${session.token}` } } : { url };
      },
    });
    map.addControl(new NavigationControl({ showCompass: false }), 'top-right');
    map.once('idle', () => setDrawn(true));
    return () => map.remove();
  }, [layer]);

  if (error) return <Alert>{error}</Alert>;
  if (!layer) return <p>Loading…</p>;
  const bounds = bboxOf(layer.bounding_box);
  return (
    <article aria-labelledby="layer-title">
      <h1 id="layer-title">
        Layer <code>{layer.layerId}</code>
      </h1>
      <div class="layer">
        <div
          class="map"
          ref={container}
          role="img"
          aria-label={`Map of layer ${layer.layerId}: ${layer.featureCount} ${layer.geometryType} features`}
          data-drawn={drawn ? 'true' : 'false'}
        />
        <section aria-labelledby="description">
          <h2 id="description">Description</h2>
          <dl class="facts">
            <dt>Features</dt>
            <dd>{layer.featureCount.toLocaleString()}</dd>
            <dt>Geometry</dt>
            <dd>{layer.geometryType}</dd>
            <dt>Bounding box</dt>
            <dd>{bounds ? bounds.map((value) => value.toFixed(4)).join(', ') : '—'}</dd>
            <dt>SRID</dt>
            <dd>{layer.srid}</dd>
          </dl>
          <h3>Fields</h3>
          <table>
            <thead>
              <tr>
                <th scope="col">Name</th>
                <th scope="col">Type</th>
              </tr>
            </thead>
            <tbody>
              {layer.layer_fields.map((field) => (
                <tr>
                  <td>{field.field_name}</td>
                  <td>{field.data_type}</td>
                </tr>
              ))}
            </tbody>
          </table>
        </section>
      </div>
    </article>
  );
}
