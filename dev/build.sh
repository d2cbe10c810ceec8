#!/usr/bin/env bash
# Build the image of each domain (or of DOMAIN) from knative/images/<domain>.Containerfile.
# With podman, buildah or docker on the machine it builds and tags fnshop/<domain>:<TAG>.
# Without one (as on the project's dev machines) it still checks every build context: each
# COPY source exists and every target loads with only the packages its image carries
# (tests/manifests/test_images.py), then says plainly that nothing was built.
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.."
tag="${TAG:-$(git rev-parse --short HEAD 2>/dev/null || echo dev)}"
domains=("${@}")
[ ${#domains[@]} -gt 0 ] || mapfile -t domains < <(ls knative/images | sed -n 's/\.Containerfile$//p')

status=0
for domain in "${domains[@]}"; do
  file="knative/images/$domain.Containerfile"
  [ -f "$file" ] || { echo "build: no $file" >&2; exit 1; }
  while read -r source; do
    [ -e "$source" ] || { echo "build: $file copies $source, which does not exist" >&2; status=1; }
  done < <(awk '$1 == "COPY" && $2 !~ /^--/ {print $2}' "$file")
done
[ $status -eq 0 ] || exit $status
python -m pytest -c tests/pytest.ini --rootdir . -q tests/manifests/test_images.py

engine=""
for candidate in podman buildah docker; do
  if command -v "$candidate" >/dev/null && "$candidate" info >/dev/null 2>&1; then engine=$candidate; break; fi
done
if [ -z "$engine" ]; then
  echo "build: build contexts of ${domains[*]} are complete; no container engine answers here, so no image was built"
  exit 0
fi
for domain in "${domains[@]}"; do
  if [ "$engine" = buildah ]; then
    buildah bud -f "knative/images/$domain.Containerfile" -t "fnshop/$domain:$tag" .
  else
    "$engine" build -f "knative/images/$domain.Containerfile" -t "fnshop/$domain:$tag" .
  fi
done
