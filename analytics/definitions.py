"""The definition of every KPI figure, written once: the CLI prints them in `--format json`,
the dashboard shows them beside each figure, the quarterly review prints them in its appendix.

Money is in the row's `currency` (never converted, never added across currencies). A period is
UTC days [start, end). "Tokens" are the counters the inference servers' metrics reported
(metric_intervals: counter increases, restarts handled), never the client's guess.
"""

from __future__ import annotations

DEFINITIONS: dict[str, str] = {
    "key": "The --by value the row is about (a deployment id, model, GPU model, provider or "
    "label value), or 'all'. 'unmapped' holds spend no deployment rule claims, so the rows add "
    "up to the bill; 'unmapped-telemetry' and 'model:<name>' hold tokens from series no "
    "deployment rule claims; 'gpu-host:<host>' holds GPUs no rule claims. With --by label:KEY "
    "each billing line's cost goes to the value of its tag KEY; a line without that tag, and an "
    "estimated cost, to its deployment's value (the one value its lines' KEY tags, else its "
    "metric series' KEY label, take); '(no KEY)' holds the rest. A deployment-day's tokens, "
    "requests and GPU figures go with its largest cost part (one key): a deployment shared by "
    "several values (tenants on one server) is not split by them, and a warning says so.",
    "start": "With --grain: the first UTC day of the row's day, ISO week (Monday) or month.",
    "currency": "The billing currency of the row's cost (estimates are in USD, the price "
    "catalog's currency). Currencies are never added together: one row per currency.",
    "effective_cost": "Allocated amortized cost: FOCUS EffectiveCost of the billing lines "
    "mapped to the row (commitments spread over the usage they cover; each line spread over its "
    "charge period by time), plus the estimated cost of days without billing lines. With "
    "--basis usage, the idle cost is left out.",
    "billed_cost": "Cash cost: FOCUS BilledCost of the billing lines mapped to the row "
    "(estimates add nothing here).",
    "estimated_cost": "The part of effective_cost that is estimated: for a deployment-day with "
    "telemetry but no billing line, GPU-hours x the on-demand USD per GPU-hour of its "
    "price_ref (price_catalog_effective; never a VM-only price, which has no GPU in it).",
    "cost_basis": "billed: every cost comes from billing lines; estimated: every cost is an "
    "estimate; mixed: some of each; unknown: there is no cost to show (no billing and no "
    "estimate possible: see warnings).",
    "input_tokens": "Prompt tokens the row's inference servers counted (metrics counters).",
    "output_tokens": "Generated tokens the row's inference servers counted (metrics counters).",
    "usd_per_1m_output_tokens": "effective_cost x 1e6 / output_tokens, in the row's currency "
    "(the cost of everything the row served, charged to its output tokens).",
    "usd_per_1m_tokens": "effective_cost x 1e6 / (input_tokens + output_tokens), in the row's "
    "currency.",
    "gpu_hours": "Hours with telemetry from the row's deployments x their GPU count (the hours "
    "they were up and paid for, as far as telemetry shows); for GPUs no deployment claims, the "
    "GPU-hours sampled.",
    "gpu_utilization": "Mean fraction of time a kernel ran on the row's GPUs (DCGM "
    "DCGM_FI_DEV_GPU_UTIL or NVML utilization), over every GPU-hour sampled, 0-1. It says the "
    "GPU was busy, not how much of its compute was used.",
    "kv_cache_usage": "Mean share of the KV cache in use (vLLM kv_cache_usage_perc, SGLang "
    "token_usage), weighted by time, 0-1.",
    "capacity_utilization": "Tokens/s served / the tokens/s the deployments could serve at "
    "their SLO (capacity measured by `unitcost bench run --capacity`, else estimated by the "
    "emulator's physics: see capacity_basis), over the hours with telemetry, 0-1. NULL when no "
    "scenario gives the deployment an SLO.",
    "capacity_basis": "measured, fitted or emulated: where each deployment's capacity at its "
    "SLO came from (several, comma separated, when the row mixes them).",
    "idle_cost": "The cost of the hours the deployments were paid for with no traffic: each "
    "day's cost x the share of its telemetry intervals in which no token was processed and no "
    "request finished. Days with cost but no telemetry are not counted (idle unknown).",
    "requests_ok": "Requests the servers finished normally (vLLM finished_reason stop or "
    "length; TGI/Triton success counters).",
    "requests_failed": "Requests the servers ended with an error or abort.",
    "success_rate": "requests_ok / (requests_ok + requests_failed), 0-1 (also called task "
    "completion rate). NULL without requests.",
    "failures_by_reason": "requests_failed split by the engine's reason label (vLLM "
    "finished_reason, TGI err, Triton reason); 'unknown' where the engine gives none.",
    "cache_hit_rate": "Prefix-cache hits / prefix-cache queries (vLLM, in tokens), 0-1.",
    "prefill_tokens_saved": "Prompt tokens served from the prefix cache (vLLM prefix-cache "
    "hits): prefill work not done.",
    "good_output_tokens": "Output tokens of requests estimated to meet the SLO of the scenario "
    "that names the deployment: output_tokens x the share of requests whose TTFT was within "
    "the SLO's TTFT (TTFT histogram) x the share of inter-token gaps within its TPOT (ITL "
    "histogram) x the share of requests within its E2E (E2E histogram), for the terms the SLO "
    "has, each interpolated inside its histogram bucket, per deployment and day. An estimate: "
    "histograms do not say which request each observation came from. Benchmarks give the exact "
    "figure per request (bench goodput).",
    "usd_per_1m_good_output_tokens": "effective_cost x 1e6 / good_output_tokens: what a million "
    "tokens that met the SLO cost, failures and slow requests charged to the good ones.",
    "joules_per_output_token": "GPU energy (DCGM/NVML energy counters, increases over the "
    "period) of the row's GPUs / output_tokens. NULL when the GPUs report no energy counter.",
    "emulated": "true when any of the row's telemetry or benchmarks comes from `unitcost "
    "emulate` (modelled, not measured).",
    "demo": "true when any of the row's data was made by `unitcost demo`.",
    "previous": "The same figures for the same key in the previous period (the quarter, "
    "month, ISO week or same-length range just before).",
}


def definitions_for(names: list[str]) -> dict[str, str]:
    """The definitions of the given fields, in that order (unknown names are left out)."""
    return {n: DEFINITIONS[n] for n in names if n in DEFINITIONS}
