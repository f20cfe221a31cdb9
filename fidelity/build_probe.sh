#!/usr/bin/env bash
# Build the tokio-probe of ../shared/fidelity/probe against tokio 1.24.2 and tokio 1.49.0.
#
#   fidelity/build_probe.sh [WORK_DIR]        (default /work/probe; binaries land in WORK_DIR/bin)
#
# Nothing fetched is kept in this repository: the 1.49 sources are exported from the upstream
# repositories' release tags into WORK_DIR/src at build time.
#   tokio 1.24.2      Debian's librust-tokio-dev (offline, /usr/share/cargo/registry)
#   tokio 1.49.0      https://github.com/tokio-rs/tokio, tag tokio-1.49.0, as a path dependency
#   pin-project-lite  https://github.com/taiki-e/pin-project-lite, tag v0.2.16 (tokio 1.49 needs
#                     >= 0.2.11; Debian ships 0.2.9). tokio's other dependencies are optional and
#                     the probe's features (rt, rt-multi-thread, time, sync) need none of them; the
#                     probe uses no tokio macro, so the macros feature is dropped on 1.49.
# Set TOKIO_GIT / PPL_GIT to local clones to build without network access.
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
work=${1:-/work/probe}
probe_src=${PROBE_SRC:-$here/../../shared/fidelity/probe}
heavy=${HEAVY:-/work/bin/heavy}
[ -x "$heavy" ] || heavy=""
tokio_git=${TOKIO_GIT:-https://github.com/tokio-rs/tokio}
ppl_git=${PPL_GIT:-https://github.com/taiki-e/pin-project-lite}
mkdir -p "$work/bin" "$work/src"

# tokio 1.24.2: the probe as published; its .cargo/config.toml points at Debian's crates.
if ! [ -d /usr/share/cargo/registry/tokio-1.24.2 ]; then
  apt-get update && apt-get install -y librust-tokio-dev librust-serde-json-dev
fi
rm -rf "$work/p124"; cp -r "$probe_src" "$work/p124"; chmod -R u+w "$work/p124"
(cd "$work/p124" && $heavy cargo build --release)
cp "$work/p124/target/release/tokio-probe" "$work/bin/tokio-probe-1.24"

# tokio 1.49.0 and pin-project-lite 0.2.16 from their tags (only the crate folders are exported).
export_tag() {  # repo tag dest [subdir]
  local tmp; tmp=$(mktemp -d)
  git clone --quiet --bare --filter=blob:none "$1" "$tmp/repo"
  rm -rf "$3"; mkdir -p "$3"
  git -C "$tmp/repo" archive "$2" ${4:-} | tar -x -C "$3"
  rm -rf "$tmp"
}
export_tag "$tokio_git" tokio-1.49.0 "$work/src/tokio" tokio
export_tag "$ppl_git" v0.2.16 "$work/src/pin-project-lite"
# Built outside their own workspaces: drop the workspace-inherited lints, and pin-project-lite's
# git-only dev-dependencies and workspace table.
python3 - "$work/src" <<'PY'
import re, sys
src = sys.argv[1]
p = f"{src}/tokio/tokio/Cargo.toml"
t = open(p).read().replace("\n[lints]\nworkspace = true\n", "\n")
open(p, "w").write(t)
p = f"{src}/pin-project-lite/Cargo.toml"
t = open(p).read()
t = re.sub(r"\n\[dev-dependencies\][^\[]*", "\n", t)
t = t.replace("\n[lints]\nworkspace = true\n", "\n").split("\n[workspace]")[0] + "\n"
open(p, "w").write(t)
PY
rm -rf "$work/p149"; mkdir -p "$work/p149"
cp -r "$probe_src/src" "$probe_src/.cargo" "$work/p149/"; chmod -R u+w "$work/p149"
cat > "$work/p149/Cargo.toml" <<TOML
[package]
name = "tokio-probe"
version = "0.1.0"
edition = "2021"

[dependencies]
tokio = { path = "$work/src/tokio/tokio", features = ["rt", "rt-multi-thread", "time", "sync"] }
serde_json = "1"

[patch.crates-io]
pin-project-lite = { path = "$work/src/pin-project-lite" }

[profile.release]
debug = false

[features]
default = ["modern"]
modern = []
TOML
# .cargo/config.toml (copied above) sets --cfg tokio_unstable; RUSTFLAGS says it again for clarity.
(cd "$work/p149" && RUSTFLAGS="--cfg tokio_unstable" $heavy cargo build --release)
cp "$work/p149/target/release/tokio-probe" "$work/bin/tokio-probe-1.49"
printf '%s tokio 1.24.2\n%s tokio 1.49.0\n' "$work/bin/tokio-probe-1.24" "$work/bin/tokio-probe-1.49"
