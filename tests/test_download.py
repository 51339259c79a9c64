"""Downloads of real benchmarks (weakseg.data.download) against a local HTTP server."""

from __future__ import annotations

import hashlib
import http.server
import io
import tarfile
import threading
import zipfile
from collections.abc import Iterator
from pathlib import Path

import pytest

from weakseg.data.download import ChecksumError, RemoteFile, extract_all, fetch, remote_files

PAYLOAD = bytes(range(256)) * 4000  # 1,024,000 bytes


class _Server(http.server.ThreadingHTTPServer):
    files: dict[str, bytes]
    ranges: bool
    cuts: int
    requests: list[str | None]


class _Handler(http.server.BaseHTTPRequestHandler):
    server: _Server

    def log_message(self, *args: object) -> None:  # quiet
        pass

    def do_GET(self) -> None:  # noqa: N802 (http.server API)
        body = self.server.files.get(self.path)
        range_header = self.headers.get("Range")
        self.server.requests.append(range_header)
        if body is None:
            self.send_error(404, "Not Found")
            return
        start = 0
        if range_header and self.server.ranges:
            start = int(range_header.removeprefix("bytes=").split("-")[0])
            if start >= len(body):
                self.send_error(416, "Range Not Satisfiable")
                return
            self.send_response(206)
            self.send_header("Content-Range", f"bytes {start}-{len(body) - 1}/{len(body)}")
        else:
            self.send_response(200)
        self.send_header("Content-Length", str(len(body) - start))
        self.end_headers()
        if self.server.cuts:  # close the connection half-way
            self.server.cuts -= 1
            self.wfile.write(body[start:start + (len(body) - start) // 2])
            self.close_connection = True
            return
        self.wfile.write(body[start:])


@pytest.fixture
def server() -> Iterator[_Server]:
    srv = _Server(("127.0.0.1", 0), _Handler)
    srv.files, srv.ranges, srv.requests, srv.cuts = {"/data.bin": PAYLOAD}, True, [], 0
    thread = threading.Thread(target=srv.serve_forever, daemon=True)
    thread.start()
    yield srv
    srv.shutdown()
    srv.server_close()


def _url(srv: _Server, path: str = "/data.bin") -> str:
    return f"http://127.0.0.1:{srv.server_address[1]}{path}"


def _remote(url: str, digest: tuple[str, str] | None = None, size: int | None = None, **kw: object) -> RemoteFile:
    fields = {"url": url, "name": "data.bin", "digest": digest, "size": size, "extract": False, "into": ""}
    return RemoteFile(**{**fields, **kw})


SHA = hashlib.sha256(PAYLOAD).hexdigest()
MD5 = hashlib.md5(PAYLOAD).hexdigest()


def test_fetch_verifies_and_renames_into_place(server, tmp_path):
    dest = tmp_path / "dl" / "data.bin"
    assert fetch(_remote(_url(server), ("sha256", SHA), len(PAYLOAD)), dest) == SHA
    assert dest.read_bytes() == PAYLOAD
    assert not dest.with_name("data.bin.part").exists()
    assert dest.with_name("data.bin.sha256").read_text() == f"{SHA}  data.bin\n"


def test_fetch_resumes_a_partial_download_with_a_range_request(server, tmp_path):
    dest = tmp_path / "data.bin"
    dest.with_name("data.bin.part").write_bytes(PAYLOAD[:300_000])
    fetch(_remote(_url(server), ("md5", MD5)), dest)
    assert server.requests == ["bytes=300000-"]
    assert dest.read_bytes() == PAYLOAD


def test_a_cut_transfer_is_resumed_within_the_job(server, tmp_path):
    server.cuts = 1
    dest = tmp_path / "data.bin"
    fetch(_remote(_url(server), ("sha256", SHA), len(PAYLOAD)), dest)
    assert server.requests == [None, f"bytes={len(PAYLOAD) // 2}-"]
    assert dest.read_bytes() == PAYLOAD


def test_fetch_restarts_when_the_server_cannot_resume(server, tmp_path):
    server.ranges = False
    dest = tmp_path / "data.bin"
    dest.with_name("data.bin.part").write_bytes(b"stale bytes")
    fetch(_remote(_url(server), ("sha256", SHA), len(PAYLOAD)), dest)
    assert dest.read_bytes() == PAYLOAD


def test_a_complete_part_file_is_verified_without_a_new_transfer(server, tmp_path):
    dest = tmp_path / "data.bin"
    dest.with_name("data.bin.part").write_bytes(PAYLOAD)
    fetch(_remote(_url(server), ("sha256", SHA), len(PAYLOAD)), dest)
    assert server.requests == [] and dest.read_bytes() == PAYLOAD


def test_checksum_mismatch_names_file_expected_and_actual_and_leaves_no_output(server, tmp_path):
    dest = tmp_path / "data.bin"
    wrong = "0" * 64
    with pytest.raises(ChecksumError, match=f"data.bin: sha256 mismatch: expected {wrong}, got {SHA}"):
        fetch(_remote(_url(server), ("sha256", wrong)), dest)
    assert not dest.exists() and not dest.with_name("data.bin.part").exists()
    assert dest.with_name("data.bin.bad").read_bytes() == PAYLOAD
    fetch(_remote(_url(server), ("sha256", SHA)), dest)  # the next run starts afresh
    assert dest.read_bytes() == PAYLOAD


def test_size_mismatch_is_named(server, tmp_path):
    with pytest.raises(ChecksumError, match="size mismatch: expected 1000 bytes, got 1024000"):
        fetch(_remote(_url(server), size=1000), tmp_path / "data.bin")
    assert not (tmp_path / "data.bin").exists()


def test_unpublished_digest_is_recorded_and_logged(server, tmp_path, caplog):
    dest = tmp_path / "data.bin"
    fetch(_remote(_url(server)), dest)
    assert SHA in caplog.text and "no published checksum" in caplog.text
    assert dest.with_name("data.bin.sha256").read_text().startswith(SHA)


def test_missing_url_names_it(server, tmp_path):
    with pytest.raises(ConnectionError, match=r"/nope.bin: HTTP 404"):
        fetch(_remote(_url(server, "/nope.bin")), tmp_path / "data.bin")


def test_file_urls_work(tmp_path):
    source = tmp_path / "mirror.bin"
    source.write_bytes(PAYLOAD)
    dest = tmp_path / "out" / "data.bin"
    fetch(_remote(source.as_uri(), ("sha256", SHA)), dest)
    assert dest.read_bytes() == PAYLOAD


def _tar_gz(path: Path, members: dict[str, bytes]) -> None:
    with tarfile.open(path, "w:gz") as t:
        for name, data in members.items():
            info = tarfile.TarInfo(name)
            info.size = len(data)
            t.addfile(info, io.BytesIO(data))


def _zip(path: Path, members: dict[str, bytes]) -> None:
    with zipfile.ZipFile(path, "w") as z:
        for name, data in members.items():
            z.writestr(name, data)


def test_extract_all_builds_one_tree_from_archives_and_plain_files(tmp_path):
    _tar_gz(tmp_path / "a.tar.gz", {"VOCdevkit/VOC2012/x.txt": b"x"})
    _zip(tmp_path / "b.zip", {"Data/Car/1.jpg": b"jpg"})
    (tmp_path / "v1_split.txt").write_bytes(b"ids")
    files = remote_files([{"url": "http://h/a.tar.gz"}, {"url": "http://h/b.zip", "into": "od"},
                          {"url": "http://h/v1/split.txt", "name": "v1_split.txt", "into": "splits/v1"}],
                         "real_datasets.x.download")
    assert [f.extract for f in files] == [True, True, False]
    tree = tmp_path / "tree"
    extract_all([(tmp_path / f.name, f) for f in files], tree)
    assert (tree / "VOCdevkit/VOC2012/x.txt").read_bytes() == b"x"
    assert (tree / "od/Data/Car/1.jpg").read_bytes() == b"jpg"
    assert (tree / "splits/v1/split.txt").read_bytes() == b"ids"
    assert not (tmp_path / "tree.partial").exists()


@pytest.mark.parametrize("archive", ["evil.zip", "evil.tar.gz"])
def test_archive_members_cannot_escape_the_tree(tmp_path, archive):
    (_zip if archive.endswith(".zip") else _tar_gz)(tmp_path / archive, {"../escape.txt": b"!"})
    files = remote_files([{"url": f"http://h/{archive}"}], "real_datasets.x.download")
    with pytest.raises((ValueError, tarfile.TarError)):
        extract_all([(tmp_path / archive, files[0])], tmp_path / "tree")
    assert not (tmp_path / "escape.txt").exists() and not (tmp_path / "tree").exists()


def test_a_corrupt_archive_is_named(tmp_path):
    (tmp_path / "bad.zip").write_bytes(b"not a zip")
    files = remote_files([{"url": "http://h/bad.zip"}], "real_datasets.x.download")
    with pytest.raises(ValueError, match="bad.zip: not a readable archive"):
        extract_all([(tmp_path / "bad.zip", files[0])], tmp_path / "tree")


@pytest.mark.parametrize(("item", "message"), [
    ({"url": "http://h/a.tar", "sha256": "ab", "md5": "cd"}, r"gives \['sha256', 'md5'\]; give one digest"),
    ({"url": "http://h/a.tar", "into": "../up"}, "expected a relative folder inside the tree"),
    ({"url": "http://h/"}, "cannot name the file of url"),
])
def test_bad_download_entries_name_the_key(item, message):
    with pytest.raises(ValueError, match=message):
        remote_files([item], "real_datasets.x.download")


def test_a_file_named_twice_is_refused():
    with pytest.raises(ValueError, match="names a file twice"):
        remote_files([{"url": "http://h/a.tar"}, {"url": "http://g/a.tar"}], "real_datasets.x.download")
