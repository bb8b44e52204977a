import pg from 'pg';
import { createTestContext, type TestContext } from '../harness/context.js';

/** Each service's role can do what its job needs and nothing more, as the migrations grant it. */
describe('database roles (least privilege)', () => {
  let context: TestContext;
  const clients: pg.Client[] = [];

  const connect = async (url: string) => {
    const client = new pg.Client({ connectionString: url });
    await client.connect();
    clients.push(client);
    return client;
  };

  beforeAll(async () => {
    context = await createTestContext();
    const admin = await connect(context.databaseUrls.admin);
    await admin.query('CREATE TABLE jobs.probe (id int PRIMARY KEY, note text)');
  });

  afterAll(async () => {
    await Promise.all(clients.map((client) => client.end()));
    await context?.dispose();
  });

  it('lets the gateway read and write its jobs tables, but not change the schema', async () => {
    const gateway = await connect(context.databaseUrls.gateway);
    await gateway.query(`INSERT INTO jobs.probe VALUES (1, 'written by the gateway')`);
    const { rows } = await gateway.query('SELECT note FROM jobs.probe');
    expect(rows).toEqual([{ note: 'written by the gateway' }]);
    await expect(gateway.query('CREATE TABLE jobs.sneaky (id int)')).rejects.toThrow(/permission denied for schema jobs/);
    await expect(gateway.query('CREATE TABLE public.sneaky (id int)')).rejects.toThrow(/permission denied for schema public/);
  });

  it('lets geo-service create layer tables that the gateway may read but never write', async () => {
    const geo = await connect(context.databaseUrls.geo);
    await geo.query('CREATE TABLE layers.roads (id int, geom geometry(Point, 4326))');
    await geo.query(`INSERT INTO layers.roads VALUES (1, 'SRID=4326;POINT(1 2)')`);

    const gateway = await connect(context.databaseUrls.gateway);
    const { rows } = await gateway.query('SELECT ST_AsText(geom) AS wkt FROM layers.roads');
    expect(rows).toEqual([{ wkt: 'POINT(1 2)' }]);
    await expect(gateway.query('DELETE FROM layers.roads')).rejects.toThrow(/permission denied for table roads/);
    await expect(gateway.query('DROP TABLE layers.roads')).rejects.toThrow(/must be owner of table roads/);
  });

  it("keeps geo-service and export-service out of the jobs tables and each other's schemas", async () => {
    const geo = await connect(context.databaseUrls.geo);
    await expect(geo.query('SELECT * FROM jobs.probe')).rejects.toThrow(/permission denied for schema jobs/);
    await expect(geo.query('CREATE TABLE packages.x (id int)')).rejects.toThrow(/permission denied for schema packages/);

    const exporter = await connect(context.databaseUrls.export);
    await exporter.query('CREATE TABLE packages.scratch_probe (name text)');
    await expect(exporter.query('SELECT * FROM jobs.probe')).rejects.toThrow(/permission denied for schema jobs/);
    await expect(exporter.query('CREATE TABLE layers.x (id int)')).rejects.toThrow(/permission denied for schema layers/);
  });

  it('lets the gateway read the boundaries, outputs and datapackages of the packages schema, and never write them', async () => {
    const exporter = await connect(context.databaseUrls.export);
    await exporter.query(`INSERT INTO packages.boundaries (name, name_long, admin_level, geometry)
      VALUES ('probe', 'Probe', '0', ST_Multi(ST_MakeEnvelope(0, 0, 1, 1, 4326)))`);

    const gateway = await connect(context.databaseUrls.gateway);
    const { rows } = await gateway.query('SELECT name FROM packages.boundaries');
    expect(rows).toEqual([{ name: 'probe' }]);
    await gateway.query('SELECT * FROM packages.outputs, packages.datapackages');
    await expect(gateway.query(`DELETE FROM packages.boundaries`)).rejects.toThrow(/permission denied for table boundaries/);
    await expect(
      gateway.query(`INSERT INTO packages.outputs (boundary, processor, version, state, job_id) VALUES ('a', 'b', 'c', 'running', gen_random_uuid())`),
    ).rejects.toThrow(/permission denied for table outputs/);
    await expect(gateway.query('SELECT * FROM packages.step_cache')).rejects.toThrow(/permission denied for table step_cache/);
  });
});
