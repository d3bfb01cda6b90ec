"""The HTTP app (Starlette): channel files, the upload/promote/prune/restore API, the pages.

Reading: `GET /<channel>/<subdir>/<file>` for public channels, `GET /t/<token>/<channel>/...`
or an `Authorization: Bearer` header otherwise (FileResponse gives ETag, Last-Modified and
Range; `repodata.json.zst` is compressed on demand and kept while repodata.json is unchanged).
Writing: `POST /api/channels/<channel>/upload?filename=F` (the body is the package),
`.../promote`, `.../prune`, `.../restore` (JSON), with a Bearer token of the right scope.
One log line per request, with any token in the path replaced by `***`: tokens are never logged.
"""

from __future__ import annotations

import logging
import re
import time

from starlette.applications import Starlette
from starlette.concurrency import run_in_threadpool
from starlette.exceptions import HTTPException
from starlette.requests import Request
from starlette.responses import FileResponse, JSONResponse, Response
from starlette.routing import Route

from orchestrator.serve import maturity, pages, tokens
from orchestrator.serve.config import ServerConfig
from orchestrator.serve.uploads import Incoming, UploadRefused, check_channel_name

log = logging.getLogger("orchestrate.serve")
TOKEN_IN_PATH = re.compile(r"^/t/[^/]+")
FILE_PATH = re.compile(r"^[A-Za-z0-9_][A-Za-z0-9_.+!-]*/[A-Za-z0-9_][A-Za-z0-9_.+!-]*$")


def bearer(request: Request) -> str | None:
    header = request.headers.get("authorization", "")
    return header[7:].strip() if header.lower().startswith("bearer ") else None


def authorize(request: Request, channel: str, scope: str, token: str | None = None) -> None:
    """Raise 401/403 unless the request may `scope` the channel (public channels: read)."""
    config: ServerConfig = request.app.state.config
    if channel not in config.all_channels:
        raise HTTPException(404, "no such channel")
    if scope == "read" and channel in config.public and token is None:
        return
    verdict = tokens.check_token(config.root, token or bearer(request), channel, scope)
    if verdict.status != 200:
        raise HTTPException(verdict.status, verdict.why)


async def channel_file(request: Request) -> Response:
    token = request.path_params.get("token")
    channel, path = request.path_params["channel"], request.path_params["path"]
    authorize(request, check_name(channel), "read", token)
    if path in ("", "index.html"):
        return pages.channel_page(request.app.state.config, channel)
    if not FILE_PATH.match(path):
        raise HTTPException(404, "not found")
    response = file_response(request.app.state, request.app.state.config.root / channel / path)
    return not_modified(request, response) or response


def not_modified(request: Request, response: Response) -> Response | None:
    """304 when the client's copy is current (FileResponse itself answers only Range)."""
    etag = response.headers.get("etag")
    if etag and etag in request.headers.get("if-none-match", ""):
        return Response(status_code=304, headers={"ETag": etag})
    since, modified = request.headers.get("if-modified-since"), response.headers.get(
        "last-modified")
    if since and modified and "if-none-match" not in request.headers and since == modified:
        return Response(status_code=304, headers={"Last-Modified": modified})
    return None


def check_name(channel: str) -> str:
    try:
        return check_channel_name(channel)
    except UploadRefused:
        raise HTTPException(404, "not found") from None


def file_response(state, path) -> Response:
    if path.name == "repodata.json.zst":
        return zst_response(state, path.with_suffix(""))
    try:
        stat = path.stat()  # given to FileResponse so that its ETag is known before sending
    except FileNotFoundError:
        raise HTTPException(404, "not found") from None
    if not path.is_file():
        raise HTTPException(404, "not found")
    media = "application/json" if path.suffix == ".json" else "application/octet-stream"
    return FileResponse(path, media_type=media, stat_result=stat)


def zst_response(state, repodata) -> Response:
    """repodata.json compressed with zstd, cached by the source file's size and mtime."""
    import zstandard

    try:
        stat = repodata.stat()
    except FileNotFoundError:
        raise HTTPException(404, "not found") from None
    key = (str(repodata), stat.st_mtime_ns, stat.st_size)
    cached = state.zst.get(str(repodata))
    if cached is None or cached[0] != key:
        cached = (key, zstandard.ZstdCompressor(level=10).compress(repodata.read_bytes()))
        state.zst[str(repodata)] = cached
    etag = f'"{stat.st_mtime_ns:x}-{stat.st_size:x}-zst"'
    return Response(cached[1], media_type="application/zstd", headers={"ETag": etag})


async def upload(request: Request) -> Response:
    config: ServerConfig = request.app.state.config
    channel = request.path_params["channel"]
    authorize(request, check_name(channel), "upload")
    incoming = Incoming(config.root, request.query_params.get("filename", ""), config.size_limit)
    try:
        async for chunk in request.stream():
            incoming.write(chunk)
        stored = await run_in_threadpool(incoming.finish, config.root / channel, config.subdirs,
                                         config.platform, request.query_params.get("subdir"))
    finally:
        incoming.discard()
    return JSONResponse({"path": stored.path, "sha256": stored.sha256,
                         "created": stored.created}, status_code=201 if stored.created else 200)


async def json_body(request: Request) -> dict:
    try:
        body = await request.json()
    except ValueError:
        raise HTTPException(400, "the body is not JSON") from None
    if not isinstance(body, dict):
        raise HTTPException(400, "the body is not a JSON object")
    return body


def specs_of(body: dict) -> list[str]:
    specs = body.get("specs")
    if not isinstance(specs, list) or not specs or not all(isinstance(s, str) for s in specs):
        raise HTTPException(400, "'specs' must be a non-empty list of strings")
    return specs


async def promote(request: Request) -> Response:
    config: ServerConfig = request.app.state.config
    source, body = check_name(request.path_params["channel"]), await json_body(request)
    target = str(body.get("to", ""))
    # a promote token of the target channel is enough: promoting is the target's decision
    authorize(request, check_name(target), "promote")
    if source not in config.all_channels:
        raise HTTPException(404, "no such channel")
    linked = await run_in_threadpool(maturity.promote, config.root, specs_of(body), source,
                                     target, config.archive, config.archived)
    return JSONResponse({"promoted": linked})


async def prune(request: Request) -> Response:
    config: ServerConfig = request.app.state.config
    channel, body = check_name(request.path_params["channel"]), await json_body(request)
    authorize(request, channel, "promote")
    keep, older = body.get("keep"), body.get("older_than_days")
    if not isinstance(keep, int) or keep < 1 or not isinstance(older, int | float | None):
        raise HTTPException(400, "'keep' must be a positive integer, 'older_than_days' a number")
    result = await run_in_threadpool(maturity.prune, config.root, channel, keep, older,
                                     bool(body.get("dry_run")), config.archive, config.archived)
    return JSONResponse(result)


async def restore(request: Request) -> Response:
    config: ServerConfig = request.app.state.config
    channel, body = check_name(request.path_params["channel"]), await json_body(request)
    authorize(request, channel, "promote")
    linked = await run_in_threadpool(maturity.restore, config.root, specs_of(body), channel,
                                     config.archive)
    return JSONResponse({"restored": linked})


async def refused(request: Request, exc: UploadRefused) -> Response:
    return JSONResponse({"error": str(exc)}, status_code=exc.status)


async def http_error(request: Request, exc: HTTPException) -> Response:
    return JSONResponse({"error": exc.detail}, status_code=exc.status_code)


async def index(request: Request) -> Response:
    return pages.index_page(request.app.state.config)


async def nightly(request: Request) -> Response:
    return pages.nightly_page(request.app.state.config)


def create_app(config: ServerConfig) -> Starlette:
    routes = [
        Route("/", index),
        Route("/builds/", nightly),
        Route("/api/channels/{channel}/upload", upload, methods=["POST"]),
        Route("/api/channels/{channel}/promote", promote, methods=["POST"]),
        Route("/api/channels/{channel}/prune", prune, methods=["POST"]),
        Route("/api/channels/{channel}/restore", restore, methods=["POST"]),
        Route("/t/{token}/{channel}/{path:path}", channel_file),
        Route("/{channel}/{path:path}", channel_file),
    ]
    app = Starlette(routes=routes, exception_handlers={UploadRefused: refused,
                                                       HTTPException: http_error})
    app.state.config, app.state.zst = config, {}
    app.add_middleware(RequestLog)
    return app


class RequestLog:
    """One line per request: method, path (token hidden), status, bytes, milliseconds."""

    def __init__(self, app):
        self.app = app

    async def __call__(self, scope, receive, send):
        if scope["type"] != "http":
            return await self.app(scope, receive, send)
        started, seen = time.perf_counter(), {"status": 0, "bytes": 0}

        async def counting_send(message):
            if message["type"] == "http.response.start":
                seen["status"] = message["status"]
            elif message["type"] == "http.response.body":
                seen["bytes"] += len(message.get("body", b""))
            await send(message)

        try:
            await self.app(scope, receive, counting_send)
        finally:
            path = TOKEN_IN_PATH.sub("/t/***", scope["path"])
            log.info("%s %s %s %s %d %.1fms", scope["client"][0] if scope.get("client") else "-",
                     scope["method"], path, seen["status"], seen["bytes"],
                     (time.perf_counter() - started) * 1000)
