#!/usr/bin/env bash
# Checks each dashboard JSON against the Dashboard type of Grafana's published
# schema package: `(<json>) satisfies Dashboard` under tsc --strict rejects
# unknown keys and wrong types. Enum members are compared by their string
# values, since JSON cannot name a TypeScript enum.
set -euo pipefail
cd "$(dirname "$0")"
[ -d node_modules ] || npm ci --silent --no-audit --no-fund
out=$(mktemp -d)
trap 'rm -rf "$out"' EXIT
for f in ../*.json; do
  name=$(basename "$f" .json)
  {
    echo 'import type { Dashboard } from "@grafana/schema";'
    echo 'type Loosen<T> = T extends string ? `${T}` : T extends (infer U)[] ? Loosen<U>[] : T extends object ? { [K in keyof T]: Loosen<T[K]> } : T;'
    printf 'export const dashboard = ('
    # __inputs and __requires are the import envelope of grafana.com's
    # dashboard files, not part of the dashboard model: checked by the
    # generator's tests, left out here.
    node -e 'const d = JSON.parse(require("fs").readFileSync(process.argv[1], "utf8")); delete d.__inputs; delete d.__requires; process.stdout.write(JSON.stringify(d, null, 2));' "$f"
    echo ') satisfies Loosen<Dashboard>;'
  } > "$out/$name.ts"
done
ln -s "$PWD/node_modules" "$out/node_modules"
./node_modules/.bin/tsc --noEmit --strict --skipLibCheck --moduleResolution node --target es2020 "$out"/*.ts
echo "dashboards match @grafana/schema: $(ls ../*.json | xargs -n1 basename | tr '\n' ' ')"
