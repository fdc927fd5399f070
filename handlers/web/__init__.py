"""The web side: `helpdesk serve`'s ASGI app (the webhooks, /healthz, /metrics)."""
