// Checks catalog-sync's Backstage export with Backstage's own catalog model, the way a Backstage
// catalog reads a catalog-info file: parse every YAML document (the `yaml` package, as Backstage
// does), resolve `$text`/`$json`/`$yaml` placeholders (Backstage does so before validating), apply
// the envelope policies and the kind's validator, then read every ref field with parseEntityRef.
//
// Usage: node validate.mjs <dir holding node_modules> < export.yaml
// Prints one JSON report on stdout; exits 1 when any entity would be refused.

import { readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { join, resolve } from 'node:path';

const modulesDir = resolve(process.argv[2] ?? '.');
const require = createRequire(join(modulesDir, 'package.json'));
const model = require('@backstage/catalog-model');
const YAML = require('yaml');
const modelVersion = require('@backstage/catalog-model/package.json').version;

const kindValidators = {
  Component: model.componentEntityV1alpha1Validator,
  API: model.apiEntityV1alpha1Validator,
  Resource: model.resourceEntityV1alpha1Validator,
  System: model.systemEntityV1alpha1Validator,
  Domain: model.domainEntityV1alpha1Validator,
  Group: model.groupEntityV1alpha1Validator,
  User: model.userEntityV1alpha1Validator,
  Location: model.locationEntityV1alpha1Validator,
};

const policy = model.EntityPolicies.allOf([
  new model.DefaultNamespaceEntityPolicy(),
  new model.NoForeignRootFieldsEntityPolicy(),
  new model.FieldFormatEntityPolicy(),
  new model.SchemaValidEntityPolicy(),
]);

// The ref fields of each kind with the default kind and allowed kinds Backstage reads them with
// (the relationFields of the kinds' model layers in @backstage/catalog-model).
const OWNER = { defaultKind: 'Group', allowedKinds: ['Group', 'User'] };
const refFields = {
  Component: {
    owner: OWNER,
    system: { defaultKind: 'System' },
    subcomponentOf: { defaultKind: 'Component' },
    providesApis: { defaultKind: 'API' },
    consumesApis: { defaultKind: 'API' },
    dependsOn: {},
    dependencyOf: {},
  },
  API: { owner: OWNER, system: { defaultKind: 'System' } },
  Resource: { owner: OWNER, system: { defaultKind: 'System' }, dependsOn: {}, dependencyOf: {} },
  System: { owner: OWNER, domain: { defaultKind: 'Domain' } },
  Domain: { owner: OWNER, subdomainOf: { defaultKind: 'Domain' } },
  Group: {
    parent: { defaultKind: 'Group', allowedKinds: ['Group'] },
    children: { defaultKind: 'Group', allowedKinds: ['Group'] },
    members: { defaultKind: 'User', allowedKinds: ['User'] },
  },
  User: { memberOf: { defaultKind: 'Group', allowedKinds: ['Group'] } },
};

function resolvePlaceholders(value) {
  if (Array.isArray(value)) return value.map(resolvePlaceholders);
  if (value === null || typeof value !== 'object') return value;
  const keys = Object.keys(value);
  if (keys.length === 1 && keys[0].startsWith('$')) {
    const [key] = keys;
    const target = value[key];
    if (typeof target !== 'string' || !['$text', '$json', '$yaml'].includes(key)) {
      throw new Error(`placeholder ${key} is not one Backstage knows`);
    }
    new URL(target); // a relative target cannot be read from an export
    return key === '$text' ? `(text read from ${target})` : {};
  }
  return Object.fromEntries(keys.map(k => [k, resolvePlaceholders(value[k])]));
}

function entityName(entity) {
  const meta = entity?.metadata ?? {};
  return `${entity?.kind}:${meta.namespace ?? 'default'}/${meta.name}`;
}

const report = {
  modelVersion,
  documents: 0,
  kinds: {},
  failures: [],
  duplicates: [],
  refs: 0,
  unresolved: [],
};

const text = readFileSync(0, 'utf8');
const entities = [];
for (const doc of YAML.parseAllDocuments(text)) {
  report.documents += 1;
  if (doc.errors.length) {
    report.failures.push({ entity: `document ${report.documents}`, error: doc.errors[0].message });
    continue;
  }
  const entity = doc.toJSON();
  if (entity === null || typeof entity !== 'object' || Array.isArray(entity)) {
    report.failures.push({ entity: `document ${report.documents}`, error: 'not a mapping' });
    continue;
  }
  entities.push(entity);
}

const seen = new Map();
const checked = [];
for (const entity of entities) {
  const name = entityName(entity);
  try {
    const resolved = resolvePlaceholders(entity);
    const enforced = await policy.enforce(resolved);
    const validator = kindValidators[enforced.kind];
    if (!validator) throw new Error(`kind ${enforced.kind} is not a Backstage kind`);
    if ((await validator.check(enforced)) !== true) {
      throw new Error(`the ${enforced.kind} validator does not accept apiVersion ${enforced.apiVersion}`);
    }
    const ref = model.stringifyEntityRef(enforced).toLocaleLowerCase('en-US');
    if (seen.has(ref)) report.duplicates.push(ref);
    seen.set(ref, enforced);
    report.kinds[enforced.kind] = (report.kinds[enforced.kind] ?? 0) + 1;
    checked.push(enforced);
  } catch (error) {
    report.failures.push({ entity: name, error: String(error?.message ?? error) });
  }
}

for (const entity of checked) {
  const fields = refFields[entity.kind] ?? {};
  for (const [field, rule] of Object.entries(fields)) {
    const value = entity.spec?.[field];
    if (value === undefined) continue;
    for (const item of Array.isArray(value) ? value : [value]) {
      report.refs += 1;
      try {
        const target = model.parseEntityRef(item, {
          defaultKind: rule.defaultKind,
          defaultNamespace: entity.metadata.namespace,
        });
        const kind = rule.allowedKinds?.find(k => k.toLowerCase() === target.kind.toLowerCase());
        if (rule.allowedKinds && !kind) {
          throw new Error(`spec.${field} may name ${rule.allowedKinds.join(' or ')}, not ${target.kind}`);
        }
        const key = model.stringifyEntityRef(target).toLocaleLowerCase('en-US');
        if (!seen.has(key)) {
          report.unresolved.push({ entity: entityName(entity), field: `spec.${field}`, target: key });
        }
      } catch (error) {
        report.failures.push({ entity: entityName(entity), error: String(error?.message ?? error) });
      }
    }
  }
}

process.stdout.write(`${JSON.stringify(report, null, 2)}\n`);
process.exitCode = report.failures.length || report.duplicates.length ? 1 : 0;
