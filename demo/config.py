"""The demo's configuration file: a real `unitcost.toml` a user can read as an example.

It names the demo's deployments (with the rules that map their billing lines and metric series
to them), the billing folder `collect billing` reads, the scenarios `unitcost recommend` answers,
and a commented example of a Prometheus source. Every name starts with `demo-`, which is how a
second `unitcost demo` finds what the first one made.
"""

from __future__ import annotations

from pathlib import Path

from unitcost.demo.matrix import CURRENT, HARDWARE, PARAMS, Current
from unitcost.emulate.catalog import Catalog

PREFIX = "demo-"

#: The benchmark shape of the chat-like scenarios (small, so the demo's benchmarks are quick);
#: the retrieval scenario has long prompts and is left to the emulator's physics.
CHAT_SHAPE = (128, 32)


def _deployment(c: Current, catalog: Catalog) -> str:
    model = catalog.model(c.config.model).name
    return f"""
[[deployments]]
id = "{c.id}"
model = "{model}"
engine = "vllm"
quantization = "{c.config.quant}"
hardware = "{HARDWARE[c.config.gpu]}"
gpu_count = 1
parameter_count = {PARAMS[c.config.model]}
price_ref = "{c.price_ref}"
[deployments.match]
resource_ids = ["i-{c.id}"]                    # its instance on the bill
tags = {{ "unitcost:deployment" = "{c.id}" }}   # its cost-allocation tag
metric_labels = {{ unitcost_deployment = "{c.id}" }}  # its series (emulate labels them so)
"""


def _scenario(c: Current) -> str:
    return f"""
[[scenarios]]
name = "{c.id}"
deployment = "{c.id}"          # serving it today: its cost and hourly demand
input_tokens = {c.input_tokens}
output_tokens = {c.output_tokens}
slo_ttft_ms = {c.slo_ttft_ms:g}
slo_tpot_ms = {c.slo_tpot_ms:g}
quality_floor = {c.quality_floor:g}            # the smallest model its users accept (parameters)
max_spot_share = 0.5           # at most half the peak may rest on spot
survive_preemptions = 1
hosted_models = ["gpt-4o-mini", "claude-haiku-4-5"]
"""


BATCH = """
[[scenarios]]
name = "demo-nightly-summaries"  # offline work: a volume by a deadline, no latency SLO
input_tokens = 1024
output_tokens = 128
batch_tokens = 200_000_000     # output tokens per night
deadline_hours = 8
quality_floor = 7e9
"""


def config_text(db: Path, billing_dir: Path, catalog: Catalog) -> str:
    """The generated unitcost.toml."""
    head = f"""# Written by `unitcost demo`: the configuration of a made-up company, as an
# example of a real one. Every figure these settings lead to is DEMO data (emulated servers,
# simulated telemetry, a generated bill). See the README's "From demo to production".
db = "{db}"

[[billing]]
name = "demo-bill"
location = "{billing_dir}"      # FOCUS exports: the shipped sample and the demo's GPU-hours

# A Prometheus server to pull inference and GPU metrics from (the demo loads its simulated
# quarter through a short-lived local Prometheus, or straight into the store):
# [[prometheus]]
# name = "prod"
# url = "http://prometheus.internal:9090"
# step = "30s"
"""
    body = "".join(_deployment(c, catalog) for c in CURRENT)
    body += "".join(_scenario(c) for c in CURRENT) + BATCH
    return head + body


def write(path: Path, db: Path, billing_dir: Path, catalog: Catalog) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(config_text(db.resolve(), billing_dir.resolve(), catalog))
    return path
