// Drives catalog-sync's /api/catalog with Backstage's own CatalogClient, unchanged, and prints what it
// saw as one JSON document for tests/e2e/test_backstage_client.py to assert on.
//
// Usage: node client.mjs <baseUrl> <nodeModulesDir> <token>
import { createRequire } from 'node:module';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';

const [baseUrl, modulesDir, token] = process.argv.slice(2);
const require = createRequire(pathToFileURL(join(modulesDir, 'resolver.cjs')));
const { CatalogClient, CATALOG_FILTER_EXISTS } = require('@backstage/catalog-client');
const model = require('@backstage/catalog-model');

const client = new CatalogClient({
  discoveryApi: { getBaseUrl: async () => `${baseUrl}/api/catalog` },
  fetchApi: { fetch },
});

const name = e => e.metadata.name;
const ref = e => model.stringifyEntityRef(e);

async function failure(promise) {
  try {
    await promise;
    return null;
  } catch (err) {
    return { statusCode: err.statusCode ?? null, name: err.cause?.name ?? err.name, message: err.cause?.message ?? err.message };
  }
}

const out = {};

const all = await client.getEntities();
out.allRefs = all.items.map(ref).sort();
const schemaCheck = model.entitySchemaValidator();
out.schemaInvalid = [];
for (const entity of all.items) {
  try {
    schemaCheck(entity);
  } catch (err) {
    out.schemaInvalid.push({ ref: ref(entity), message: err.message });
  }
}
out.componentsValid = [];
for (const entity of all.items.filter(e => e.kind === 'Component')) {
  try {
    out.componentsValid.push({ ref: ref(entity), valid: (await model.componentEntityV1alpha1Validator.check(entity)) === true });
  } catch (err) {
    out.componentsValid.push({ ref: ref(entity), valid: false, message: err.message });
  }
}
out.relationsOfProduct = all.items.find(e => ref(e) === 'product:default/payments-api')?.relations ?? null;

out.components = (await client.getEntities({ filter: { kind: 'component' } })).items.map(name).sort();
out.productsOrTeams = (await client.getEntities({ filter: [{ kind: 'product' }, { kind: 'team' }] })).items
  .map(ref).sort();
out.anyOfKinds = (await client.getEntities({ filter: { kind: ['system', 'api'] } })).items.map(ref).sort();
out.tagged = (await client.getEntities({ filter: { 'metadata.tags': 'pci' } })).items.map(ref).sort();
out.hasOwner = (await client.getEntities({ filter: { kind: 'product', 'spec.owner': CATALOG_FILTER_EXISTS } })).items.map(ref).sort();
out.projected = (await client.getEntities({ filter: { kind: 'product' }, fields: ['kind', 'metadata.name'] })).items;
out.ordered = (await client.getEntities({ order: { field: 'metadata.name', order: 'desc' }, filter: { kind: 'component' } })).items.map(name);

const pages = [];
let page = await client.queryEntities({ limit: 2, orderFields: { field: 'metadata.name', order: 'asc' } });
out.queryTotal = page.totalItems;
pages.push(page.items.map(name));
let guard = 0;
while (page.pageInfo.nextCursor && guard++ < 100) {
  page = await client.queryEntities({ cursor: page.pageInfo.nextCursor, limit: 2 });
  pages.push(page.items.map(name));
}
out.queryPages = pages;
out.lastPageHasPrev = Boolean(page.pageInfo.prevCursor);
if (page.pageInfo.prevCursor) {
  const back = await client.queryEntities({ cursor: page.pageInfo.prevCursor, limit: 2 });
  out.previousPage = back.items.map(name);
}
const filtered = await client.queryEntities({ filter: { kind: 'product' }, fields: ['metadata.name'] });
out.queryFiltered = { total: filtered.totalItems, items: filtered.items };
const fullText = await client.queryEntities({ fullTextFilter: { term: 'Payments' } });
out.fullText = fullText.items.map(ref).sort();
const fullTextFields = await client.queryEntities({ fullTextFilter: { term: 'payments', fields: ['metadata.name'] } });
out.fullTextByName = fullTextFields.items.map(ref).sort();
out.streamed = [];
for await (const chunk of client.streamEntities({ pageSize: 3 })) {
  out.streamed.push(chunk.length);
}

const product = await client.getEntityByRef('product:default/payments-api');
out.byRef = product ? { ref: ref(product), uid: product.metadata.uid, etag: product.metadata.etag } : null;
out.byRefUpperCase = Boolean(await client.getEntityByRef('Product:default/Payments-API'));
out.byRefMissing = (await client.getEntityByRef('product:default/does-not-exist')) ?? 'undefined';
out.byRefs = (await client.getEntitiesByRefs({
  entityRefs: ['team:default/payments', 'product:default/nope', 'product:default/payments-api'],
  fields: ['kind', 'metadata.name'],
})).items.map(item => item ?? null);
out.byRefsFiltered = (await client.getEntitiesByRefs({
  entityRefs: ['team:default/payments', 'product:default/payments-api'],
  filter: { kind: 'team' },
})).items.map(item => (item ? ref(item) : null));

out.facets = (await client.getEntityFacets({ facets: ['kind', 'spec.lifecycle'] })).facets;
out.facetsFiltered = (await client.getEntityFacets({ facets: ['spec.lifecycle'], filter: { kind: 'product' } })).facets;

const validComponent = {
  apiVersion: 'backstage.io/v1alpha1',
  kind: 'Component',
  metadata: { name: 'checked' },
  spec: { type: 'service', lifecycle: 'production', owner: 'group:default/web' },
};
out.validateGood = await client.validateEntity(validComponent, 'url:https://git.example.com/x/blob/main/catalog-info.yaml');
out.validateBad = await client.validateEntity(
  { apiVersion: 'catalog/v1', kind: 'Product', metadata: { name: 'bad' }, spec: { type: 'service', lifecycle: 'someday' } },
  'url:https://git.example.com/x/blob/main/catalog-info.yaml',
);

const locations = await client.getLocations();
out.locations = locations.items;
out.locationById = locations.items.length ? await client.getLocationById(locations.items[0].id) : null;
out.locationMissing = (await client.getLocationById('bm8tc3VjaA')) ?? 'undefined';
out.locationByEntity = await client.getLocationByEntity('product:default/payments-api');

out.refreshWithToken = await failure(client.refreshEntity('product:default/payments-api', { token }));
out.refreshWithoutToken = await failure(client.refreshEntity('product:default/payments-api'));
out.badCursor = await failure(client.queryEntities({ cursor: 'not-a-cursor' }));
out.badFilterKey = await failure(client.getEntities({ filter: { 'relations.': 'x' } }));
out.deleteNotOrphan = await failure(client.removeEntityByUid(product?.metadata.uid ?? 'x', { token }));

process.stdout.write(JSON.stringify(out));
