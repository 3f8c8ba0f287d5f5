"""Run the app with uvicorn: in the foreground (``serve``) or on a thread (tests, benchmarks)."""

from __future__ import annotations

import threading
import time
from typing import Any

import uvicorn

from ..jobs import EngineFactory
from .app import create_app
from .config import ServiceConfig


def serve(config: ServiceConfig) -> None:
    """Serve until interrupted (Ctrl+C / SIGTERM stop it cleanly: running jobs are cancelled)."""
    app = create_app(config)
    uvicorn.run(app, host=config.host, port=config.port, log_level="info", access_log=False)


class BackgroundServer:
    """A real server on a thread, for tests and benchmarks: ``with BackgroundServer(cfg) as s:``
    then talk to ``s.url``. ``port=0`` in the config picks a free port."""

    def __init__(
        self, config: ServiceConfig, *, engine_factory: EngineFactory | None = None, **app_kw: Any
    ) -> None:
        self.config = config
        self.app = create_app(config, engine_factory=engine_factory, **app_kw)
        self._server = uvicorn.Server(
            uvicorn.Config(
                self.app,
                host=config.host,
                port=config.port,
                log_level="warning",
                access_log=False,
                lifespan="on",
            )
        )
        self._thread = threading.Thread(target=self._run, name="api-server", daemon=True)
        self.port = config.port

    def _run(self) -> None:
        try:
            self._server.run()
        except SystemExit:  # uvicorn exits when it cannot listen: start() reports it
            pass

    @property
    def url(self) -> str:
        host = f"[{self.config.host}]" if ":" in self.config.host else self.config.host
        return f"http://{host}:{self.port}"

    @property
    def service(self):
        return self.app.state.service

    def start(self, timeout: float = 20.0) -> BackgroundServer:
        self._thread.start()
        deadline = time.monotonic() + timeout
        while not self._server.started:
            if not self._thread.is_alive() or time.monotonic() > deadline:
                self._server.should_exit = True
                self._thread.join(5)
                self.service.close()  # its worker (unless shared) and its temp folder
                raise RuntimeError(
                    f"the API server did not start on {self.config.host}:{self.config.port}"
                )
            time.sleep(0.01)
        sockets = [s for server in self._server.servers for s in server.sockets]
        self.port = sockets[0].getsockname()[1]
        return self

    def stop(self, timeout: float = 20.0) -> None:
        self._server.should_exit = True
        self._thread.join(timeout)

    def __enter__(self) -> BackgroundServer:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.stop()
