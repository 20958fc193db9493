-- Purpose: forget an emulated deployment before `emulate offline --to-store` writes it again.
-- Grain: one deployments row per emulated endpoint name. Upstream: deployments.
DELETE FROM deployments WHERE deployment_id = ?;
