"""The media server: unguessable expiring URLs, nothing else reachable, bounded disk use."""

from __future__ import annotations

import os
from pathlib import Path

import httpx
import pytest

from app.media_server import TOKEN_BYTES, MediaServer
from app.services import build_services
from app.settings import AppSettings
from pipeline.remote import RemotePipeline

JPEG = b"\xff\xd8\xff\xe0" + b"x" * 100


class Clock:
    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now


@pytest.fixture
async def server(tmp_path: Path):
    clock = Clock()
    media = MediaServer(tmp_path / "media", port=0, ttl_s=60, max_total_bytes=1000, clock=clock)
    media.clock = clock  # type: ignore[attr-defined]
    await media.start()
    yield media
    await media.stop()


async def test_published_photo_is_served_then_expires(server: MediaServer) -> None:
    item = server.publish(JPEG, "image/jpeg")
    assert len(item.token) * 6 >= TOKEN_BYTES * 8 >= 128
    async with httpx.AsyncClient() as client:
        response = await client.get(server.url_for(item))
        assert response.status_code == 200
        assert response.content == JPEG
        assert response.headers["content-type"] == "image/jpeg"
        assert response.headers["x-content-type-options"] == "nosniff"
        assert "private" in response.headers["cache-control"]
        head = await client.head(server.url_for(item))
        assert head.status_code == 200
        server.clock.now += 61  # type: ignore[attr-defined]
        assert (await client.get(server.url_for(item))).status_code == 404
    assert server.cleanup_expired() == 1
    assert not item.path.exists()


async def test_only_get_and_head(server: MediaServer) -> None:
    item = server.publish(JPEG)
    async with httpx.AsyncClient() as client:
        for method in ("POST", "PUT", "DELETE", "PATCH"):
            assert (await client.request(method, server.url_for(item))).status_code == 405


@pytest.mark.parametrize(
    "path",
    [
        "/m/",
        "/m/..",
        "/m/../../etc/passwd",
        "/m/%2e%2e%2fetc%2fpasswd",
        "/m/..%2F..%2Fetc%2Fpasswd",
        "/m//etc/passwd",
        "/",
        "/m",
        "/etc/passwd",
        "/m/%2Fetc%2Fpasswd",
    ],
)
async def test_no_traversal_or_listing(server: MediaServer, path: str) -> None:
    server.publish(JPEG)
    async with httpx.AsyncClient() as client:
        response = await client.get(f"{server.base_url}{path}")
    assert response.status_code in (404, 405)
    assert b"root:" not in response.content and JPEG not in response.content


async def test_symlink_in_store_is_not_served(server: MediaServer, tmp_path: Path) -> None:
    secret = tmp_path / "secret.txt"
    secret.write_text("top secret")
    item = server.publish(JPEG)
    os.symlink(secret, item.path.parent / ("A" * 32))
    async with httpx.AsyncClient() as client:
        response = await client.get(f"{server.base_url}/m/{'A' * 32}")
    assert response.status_code == 404


async def test_disk_use_is_bounded_oldest_evicted(server: MediaServer) -> None:
    first = server.publish(b"1" * 400)
    second = server.publish(b"2" * 400)
    third = server.publish(b"3" * 400)
    assert server.total_bytes <= 1000
    assert not first.path.exists() and second.path.exists() and third.path.exists()


async def test_revoke_removes_only_its_own_file(server: MediaServer) -> None:
    kept = server.publish(JPEG)
    gone = server.publish(JPEG)
    server.revoke(gone.token)
    assert kept.path.exists() and not gone.path.exists()


async def test_binds_loopback_by_default(tmp_path: Path) -> None:
    media = MediaServer(tmp_path / "m", port=0)
    await media.start()
    try:
        assert media.base_url.startswith("http://127.0.0.1:")
    finally:
        await media.stop()


async def test_only_redis_workers_get_a_media_server(tmp_path: Path) -> None:
    in_process = build_services(AppSettings(_env_file=None, data_dir=tmp_path, queue_url=None))
    assert in_process.media is None  # the in-process pipeline gets the photo's bytes
    await in_process.close()
    settings = AppSettings(_env_file=None, data_dir=tmp_path, queue_url="redis://127.0.0.1:9/0", media_port=0)
    remote = build_services(settings)
    assert isinstance(remote.media, MediaServer) and isinstance(remote.pipeline, RemotePipeline)
    assert remote.pipeline.photo_host is remote.media  # the workers fetch each photo from it
    await remote.media.start()
    try:
        with remote.media.hosted(JPEG) as url:
            async with httpx.AsyncClient() as client:
                assert (await client.get(url)).content == JPEG
    finally:
        await remote.close()
