#!/bin/sh
# Prints, for each top-level module of src/, the other top-level modules its code names
# (`crate::X` in the library, `mailprobe::X` / `crate::X` in the binary), comments and unit-test
# files (`tests.rs`, `tests/`) excluded.
# Used to check the layering described in ARCHITECTURE.md: no cycles, no upward imports.
cd "$(dirname "$0")/.." || exit 1
for path in src/*.rs src/*/; do
    m=$(basename "$path" .rs)
    [ "$m" = lib ] && continue
    files=$( { [ -f "src/$m.rs" ] && echo "src/$m.rs"; [ -d "src/$m" ] && find "src/$m" -name '*.rs' ! -name tests.rs ! -path '*/tests/*'; } | sort -u)
    deps=$(cat $files | grep -vE '^\s*//' | grep -oE '(crate|mailprobe)::[a-z_0-9]+' \
        | sed -E 's/.*:://' | sort -u | grep -vx "$m" | tr '\n' ' ')
    echo "$m: $deps"
done | sort -u
