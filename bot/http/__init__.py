"""The HTTP adapter: a FastAPI app with the forum plugin API (`/v1/…`) and the moderator web page.

`create_app(engine, moderator, settings)` builds it; `alignbot serve` runs it with uvicorn.
"""
