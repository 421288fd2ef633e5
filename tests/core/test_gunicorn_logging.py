from types import SimpleNamespace

from gunicorn.config import Config

from mash.core.gunicorn_logging import RedactingLogger, redact


def test_board_tokens_never_reach_the_access_log():
    assert redact("GET /board/connect/abc-DEF_123/ HTTP/1.1") == "GET /board/connect/…/ HTTP/1.1"
    assert redact("/board/data/") == "/board/data/"
    logger = RedactingLogger(Config())
    environ = {
        "RAW_URI": "/board/connect/secret-token/",
        "PATH_INFO": "/board/connect/secret-token/",
        "QUERY_STRING": "",
        "REQUEST_METHOD": "GET",
        "SERVER_PROTOCOL": "HTTP/1.1",
        "REMOTE_ADDR": "127.0.0.1",
    }
    req = SimpleNamespace(
        headers=[],
        method="GET",
        uri="/board/connect/secret-token/",
        path="/board/connect/secret-token/",
        query="",
        version=(1, 1),
    )
    resp = SimpleNamespace(status="302 Found", sent=0, headers=[], response_length=0)
    atoms = logger.atoms(resp, req, environ, SimpleNamespace(seconds=0, microseconds=0))
    assert "secret-token" not in " ".join(str(v) for v in atoms.values())
