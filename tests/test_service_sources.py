"""Input sources of the service: classification, data: URIs, and the private-address guard."""

from __future__ import annotations

import base64
import socket

import pytest

from inpaint_core.errors import ImageLoadError, ImageTooLargeError
from inpaint_core.imaging import url_guard
from inpaint_core.imaging.url_guard import UrlRefusedError, check_url_target
from inpaint_core.service.config import is_loopback_host
from inpaint_core.service.sources import SourceError, classify, decode_data_uri

OWN = "127.0.0.1:5123"


def test_classify_kinds():
    assert classify("image", "data:image/png;base64,AAAA", OWN).kind == "data"
    assert classify("image", "http://127.0.0.1:5123/v1/files/abc", OWN).value == "abc"
    assert classify("image", "http://127.0.0.1:5123/v1/files/abc/download", OWN).kind == "file"
    out = classify("image", "http://127.0.0.1:5123/v1/predictions/p1/output/2.png", OWN)
    assert (out.kind, out.value) == ("output", "p1/2")
    # the same path on another host is someone else's URL
    assert classify("image", "http://example.com/v1/files/abc", OWN).kind == "remote"
    assert classify("image", "https://example.com/a.png", OWN).kind == "remote"


@pytest.mark.parametrize(
    "value",
    [
        "file:///etc/passwd",
        "FILE:/etc/passwd",
        "/etc/passwd",
        "ftp://x/y.png",
        "gopher://x",
        "data",
    ],
)
def test_classify_refuses_other_schemes_naming_the_field(value):
    with pytest.raises(SourceError) as info:
        classify("mask", value, OWN)
    assert info.value.field == "mask" and str(info.value).startswith("mask: ")


def test_data_uris_base64_and_percent_encoded():
    raw = bytes(range(256))
    uri = "data:application/octet-stream;base64," + base64.b64encode(raw).decode()
    assert decode_data_uri(uri, 1000) == raw
    assert decode_data_uri("data:,hello%20world", 100) == b"hello world"
    with pytest.raises(ImageTooLargeError):
        decode_data_uri(uri, 100)
    with pytest.raises(ImageLoadError, match="base64"):
        decode_data_uri("data:image/png;base64,@@@@", 100)


def fake(monkeypatch, *addresses):
    """Make every name resolve to ``addresses`` (nothing is sent anywhere)."""
    calls = []

    def resolve_host(host, port):
        calls.append((host, port))
        return list(addresses)

    monkeypatch.setattr(url_guard, "resolve_host", resolve_host)
    return calls


# the service downloads URL inputs with load_image(..., allow_private_urls=False): the imaging
# guard (one for the CLI, the studio and the service) decides, per hop


@pytest.mark.parametrize(
    "address",
    [
        "127.0.0.1",
        "10.0.0.1",
        "172.16.5.4",
        "192.168.1.1",
        "169.254.169.254",  # cloud metadata
        "100.64.0.1",  # carrier-grade NAT
        "0.0.0.0",
        "224.0.0.1",
        "::1",
        "fe80::1",
        "fc00::1",
        "::ffff:10.0.0.1",
    ],
)
def test_private_loopback_link_local_addresses_are_refused(monkeypatch, address):
    calls = fake(monkeypatch, address)
    with pytest.raises(UrlRefusedError, match="loopback, private or link-local"):
        check_url_target("https://photos.example/a.png")
    assert calls == [("photos.example", 443)]


def test_one_private_address_among_public_ones_is_enough_to_refuse(monkeypatch):
    fake(monkeypatch, "93.184.216.34", "10.0.0.7")
    with pytest.raises(UrlRefusedError, match="10.0.0.7"):
        check_url_target("http://x.example:8080/a.png")


def test_public_addresses_pass(monkeypatch):
    fake(monkeypatch, "93.184.216.34")
    check_url_target("http://x.example/a.png")
    fake(monkeypatch, "2606:2800:220:1:248:1893:25c8:1946")
    check_url_target("http://x.example/a.png")


def test_unresolvable_host_is_a_clear_error(monkeypatch):
    def resolve_host(host, port):
        raise socket.gaierror(-2, "Name or service not known")

    monkeypatch.setattr(url_guard, "resolve_host", resolve_host)
    with pytest.raises(ImageLoadError, match="cannot resolve nowhere.invalid"):
        check_url_target("http://nowhere.invalid/a.png")


@pytest.mark.parametrize(
    ("host", "loopback"),
    [
        ("127.0.0.1", True),
        ("localhost", True),
        ("::1", True),
        ("127.5.0.1", True),
        ("0.0.0.0", False),
        ("::", False),
        ("192.168.1.2", False),
        ("myhost", False),
    ],
)
def test_loopback_hosts(host, loopback):
    assert is_loopback_host(host) is loopback
