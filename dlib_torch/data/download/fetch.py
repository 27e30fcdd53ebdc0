"""One HTTP download: streamed to a temporary file, resumed, retried, verified, then moved into place.

The temporary file `.dtl_partial.<name>` beside the target (a name only the tool uses) survives an interrupted run; the next attempt (or run)
asks for the rest with an HTTP Range request, guarded by If-Range so that a file changed on the server starts
over. Only a download whose size and SHA-256 check out is renamed onto the target; one that fails is deleted.

A download is complete only when its length is known: from the published size, the response's Content-Length
or Content-Range. A response that says neither ends at an early close as much as at the end of the file, so
the next request asks for the bytes after it: a 416 answer naming that length confirms the end, anything else
is resumed. A server that supports neither lengths nor ranges must send the same bytes twice.
"""
import errno
import hashlib
import http.client
import json
import os
import re
import sys
import time
import urllib.error
import urllib.request

from dlib_torch.data.ground_truth import image_cache
from dlib_torch.utils import file_lock
from dlib_torch.utils.errors import UserError

TRANSIENT_HTTP_STATUS = {408, 425, 429, 500, 502, 503, 504}
BLOCK = 1 << 20
USER_AGENT = "dtl_download (dlib_torch)"


class DownloadError(UserError):
    """A download failed for good: the message is one line naming the URL and what went wrong."""

PARTIAL_PREFIX = ".dtl_partial."  # the download in progress beside its target, resumed by the next attempt


class _Transient(Exception):
    """A failure worth retrying (network error, server error, connection dropped mid-file)."""


def fetch(url, path, expected_size=None, expected_sha256=None, retries=5, retry_wait=1.0, progress=True,
          timeout=60, log=None):
    """Downloads `url` to `path` and returns the file's SHA-256 hex digest.

    Transient failures are retried `retries` times, waiting `retry_wait` seconds, doubling each time; each
    retry resumes where the last one stopped. Raises DownloadError (one line) for a failure that persists.
    """
    log = log or (lambda message: print(message, file=sys.stderr, flush=True))
    directory, name = os.path.split(os.path.abspath(path))
    os.makedirs(directory, exist_ok=True)
    with file_lock.locked(os.path.join(directory, ".dtl_download.lock")):
        partial = _Partial(os.path.join(directory, PARTIAL_PREFIX + name), url)
        attempt = 0
        unconfirmed = None  # (size, digest) of the last whole response that ended without a known length
        while True:
            try:
                if _transfer(url, partial, expected_size, progress, timeout):
                    break
                received = (partial.size(), partial.hexdigest())
                if received == unconfirmed:
                    break  # no lengths, no ranges: two whole transfers agreed
                if unconfirmed is not None and received[0] <= unconfirmed[0]:
                    raise _Transient("{} ended at byte {} after {} earlier, without saying the file's length".format(
                        url, received[0], unconfirmed[0]))
                unconfirmed = received
                log("{} ended at byte {} without saying the file's length; asking for any bytes after it".format(
                    url, received[0]))
            except _Transient as e:
                attempt += 1
                if attempt > retries:
                    raise DownloadError("{} (gave up after {} retries; rerun to resume from byte {})".format(
                        e, retries, partial.size())) from None
                wait = retry_wait * 2 ** (attempt - 1)
                log("{}; retrying in {:.3g} s ({}/{})".format(e, wait, attempt, retries))
                time.sleep(wait)
        size, digest = partial.size(), partial.hexdigest()
        if expected_size is not None and size != expected_size:
            partial.discard()
            raise DownloadError("{} gave {} bytes but the published file has {}; the download was deleted".format(
                url, size, expected_size))
        if expected_sha256 is not None and digest != expected_sha256:
            partial.discard()
            raise DownloadError("SHA-256 mismatch for {}: expected {}, got {}; the download was deleted".format(
                url, expected_sha256, digest))
        partial.move_to(path)
    return digest


class _Partial:
    """The temporary file of a download, its running SHA-256, and what the server said about it (for If-Range)."""

    def __init__(self, path, url):
        self.path = path
        self.info_path = path + ".json"
        self.url = url
        self._digest, self._hashed = hashlib.sha256(), 0
        info = self._read_info()
        if os.path.exists(self.path) and info.get("url") != url:
            self.restart()  # a leftover from another URL cannot be continued

    def size(self):
        return os.path.getsize(self.path) if os.path.exists(self.path) else 0

    def validator(self):
        return self._read_info().get("validator")

    def start(self, validator):
        """Begins the file afresh for a response that carries the whole file."""
        self.restart()
        with open(self.info_path, "w", encoding="utf-8") as f:
            json.dump({"url": self.url, "validator": validator}, f)

    def restart(self):
        with open(self.path, "wb"):
            pass
        self._digest, self._hashed = hashlib.sha256(), 0

    def append(self, f, block):
        if self._hashed != f.tell():  # the file holds bytes from an earlier run: hash them first
            self._rehash()
        f.write(block)
        self._digest.update(block)
        self._hashed += len(block)

    def hexdigest(self):
        if self._hashed != self.size():
            self._rehash()
        return self._digest.hexdigest()

    def discard(self):
        for p in (self.path, self.info_path):
            if os.path.exists(p):
                os.unlink(p)

    def move_to(self, target):
        os.replace(self.path, target)
        if os.path.exists(self.info_path):
            os.unlink(self.info_path)

    def _rehash(self):
        self._digest, self._hashed = hashlib.sha256(), 0
        with open(self.path, "rb") as f:
            for block in iter(lambda: f.read(BLOCK), b""):
                self._digest.update(block)
                self._hashed += len(block)

    def _read_info(self):
        try:
            with open(self.info_path, encoding="utf-8") as f:
                return json.load(f)
        except (OSError, ValueError, RecursionError):
            return {}


def _transfer(url, partial, expected_size, progress, timeout):
    """One attempt: requests the missing bytes of `partial` and appends them; raises _Transient to retry.

    Returns True when the file is known to be complete, False when the response ended without a known length.
    """
    offset = partial.size()
    headers = {"User-Agent": USER_AGENT}
    if offset:
        headers["Range"] = "bytes={}-".format(offset)
        if partial.validator():  # the server sends the whole file instead if it changed since
            headers["If-Range"] = partial.validator()
    try:
        response = urllib.request.urlopen(urllib.request.Request(url, headers=headers), timeout=timeout)
    except urllib.error.HTTPError as e:
        if e.code == 416 and offset and _total_of(e.headers.get("Content-Range")) == offset:
            return True  # the previous attempt got every byte
        if e.code == 416:
            partial.restart()
            raise _Transient("{} refused to resume at byte {}".format(url, offset)) from None
        message = "HTTP {} {} for {}".format(e.code, e.reason, url)
        if e.code in TRANSIENT_HTTP_STATUS:
            raise _Transient(message) from None
        raise DownloadError(message) from None
    except (urllib.error.URLError, OSError, http.client.HTTPException) as e:
        raise _Transient("network error for {}: {}".format(url, getattr(e, "reason", None) or e)) from None
    with response:
        if offset and response.status == 206:
            start = _start_of(response.headers.get("Content-Range"))
            if start != offset:
                partial.restart()
                raise _Transient("{} resumed at byte {} instead of {}".format(url, start, offset))
            total = _total_of(response.headers.get("Content-Range"))
        else:
            offset = 0
            partial.start(response.headers.get("ETag") or response.headers.get("Last-Modified"))
            length = response.headers.get("Content-Length")
            total = int(length) if length is not None and length.strip().isdigit() else None
            if length is not None and total is None:
                log_bad_length(url, length)
        if total is None:
            total = expected_size  # an early close without a length still falls short of the published size
        if total is not None and expected_size is not None and total != expected_size:
            partial.discard()
            raise DownloadError("{} serves {} bytes but the published file has {}; if the host now serves "
                                "another version, pass --sha256=KEY=DIGEST".format(url, total, expected_size))
        _stream(response, partial, url, offset, total, progress)
    received = partial.size()
    if total is None:
        return False
    if received < total:
        raise _Transient("connection to {} closed at byte {} of {}".format(url, received, total))
    return True


def _stream(response, partial, url, offset, total, progress):
    from tqdm import tqdm
    if total is not None:
        image_cache.require_free_space(os.path.dirname(partial.path), total - offset, url)
    bar = tqdm(total=total, initial=offset, unit="B", unit_scale=True, unit_divisor=1024, disable=not progress,
               desc=os.path.basename(partial.path)[len(PARTIAL_PREFIX):], file=sys.stderr, mininterval=0.5)
    try:
        with bar, open(partial.path, "ab") as f:
            while True:
                try:
                    block = response.read(BLOCK)
                except (OSError, http.client.HTTPException) as e:
                    raise _Transient("connection to {} broke at byte {}: {}".format(url, f.tell(), e)) from None
                if not block:
                    return
                partial.append(f, block)
                bar.update(len(block))
    except OSError as e:
        if e.errno == errno.ENOSPC:
            raise DownloadError("no space left on the device for {} ({} bytes kept; free some space and rerun "
                                "to resume)".format(partial.path, partial.size())) from None
        raise


def log_bad_length(url, length):
    """A Content-Length that is not a number is ignored (the download then ends when the server closes)."""
    print("dtl_download: {} sent Content-Length {!r}, which is not a number; ignoring it".format(url, length[:40]),
          file=sys.stderr, flush=True)


def _start_of(content_range):
    match = re.match(r"bytes (\d+)-\d+/(\d+|\*)", content_range or "")
    return int(match.group(1)) if match else None


def _total_of(content_range):
    match = re.match(r"bytes (?:\d+-\d+|\*)/(\d+)", content_range or "")
    return int(match.group(1)) if match else None
