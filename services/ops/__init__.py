"""Ops: what the pipeline is doing (summary, metrics) and the levers to steer it
(bulk retry, acknowledge, reprocess). Pure over a Session; services/ingest/routes/ops.py
is the HTTP shell, services/ops/cli.py the command line."""
