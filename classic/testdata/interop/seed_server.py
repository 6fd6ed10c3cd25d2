#!/usr/bin/env python3
"""An independent server of the seed-004 protocol (version 3), written the
way the deployed Python servers are, from docs/CLASSIC.md and the seed text.
Used only by ferry's interop tests (go test -tags interop ./classic).

    seed_server.py --dir DIR [--port 0] [--corrupt N] [--ack-1030]
                   [--close-after-denied] [--one-request]

It prints "PORT <n>" once listening. --corrupt N sends a wrong checksum in
the first N answers 2103; --ack-1030 answers 1030 with 2104 (as some
deployed servers do); --close-after-denied closes the connection after 2106;
--one-request closes every connection after one request, as servers made
for clients that connect once per request do. After a wrong checksum it
refuses (2107) a 1028 from that client until 1030 or 1031 has come, as the
spec's flow has it.
"""
import argparse
import os
import socket
import socketserver
import sqlite3
import struct
import sys
import threading
import uuid

from cryptography.hazmat.primitives import hashes, padding as sympad, serialization
from cryptography.hazmat.primitives.asymmetric import padding
from cryptography.hazmat.primitives.ciphers import Cipher, algorithms, modes

VERSION = 3
NAME = 255
MAX_PAYLOAD = 256 << 20


def _table():
    t = []
    for i in range(256):
        c = i << 24
        for _ in range(8):
            c = ((c << 1) ^ 0x04C11DB7) if c & 0x80000000 else (c << 1)
        t.append(c & 0xFFFFFFFF)
    return t


_T = _table()


def cksum(data):
    """POSIX cksum(1): CRC-32 MSB first, then the length, complemented."""
    crc = 0
    for b in data:
        crc = ((crc << 8) & 0xFFFFFFFF) ^ _T[(crc >> 24) ^ b]
    n = len(data)
    while n:
        crc = ((crc << 8) & 0xFFFFFFFF) ^ _T[(crc >> 24) ^ (n & 0xFF)]
        n >>= 8
    return (~crc) & 0xFFFFFFFF


def cstr(field):
    return field.split(b"\0", 1)[0].decode("ascii")


class State:
    def __init__(self, directory, corrupt, ack_1030, close_after_denied, one_request):
        self.dir = directory
        self.corrupt = corrupt
        self.ack_1030 = ack_1030
        self.close_after_denied = close_after_denied
        self.one_request = one_request
        self.verdict_due = set()  # client IDs sent a wrong checksum, owing 1030 or 1031
        self.lock = threading.Lock()
        self.db = sqlite3.connect(os.path.join(directory, "defensive.db"), check_same_thread=False)
        self.db.execute("CREATE TABLE IF NOT EXISTS clients (ID BLOB PRIMARY KEY, Name TEXT UNIQUE, PublicKey BLOB, LastSeen TEXT, AESKey BLOB)")
        self.db.execute("CREATE TABLE IF NOT EXISTS files (ID BLOB, FileName TEXT, PathName TEXT, Verified INTEGER)")
        self.db.commit()

    def query(self, sql, *args):
        with self.lock:
            cur = self.db.execute(sql, args)
            rows = cur.fetchall()
            self.db.commit()
            return rows


class Refused(Exception):
    pass


class Handler(socketserver.BaseRequestHandler):
    def recv_exact(self, n):
        buf = bytearray()
        while len(buf) < n:
            chunk = self.request.recv(min(n - len(buf), 1 << 20))
            if not chunk:
                raise EOFError
            buf += chunk
        return bytes(buf)

    def reply(self, code, payload=b""):
        self.request.sendall(struct.pack("<BHI", VERSION, code, len(payload)) + payload)

    def handle(self):
        st = self.server.state
        try:
            while True:
                try:
                    head = self.recv_exact(23)
                except EOFError:
                    return
                cid, version, code, size = struct.unpack("<16sBHI", head)
                if size > MAX_PAYLOAD:
                    raise Refused("payload too large")
                payload = self.recv_exact(size)
                if not self.dispatch(st, cid, code, payload) or st.one_request:
                    return
        except Exception as e:  # noqa: BLE001 - like the deployed servers: any error is 2107
            print("seed_server: error:", repr(e), file=sys.stderr)
            try:
                self.reply(2107)
            except OSError:
                pass

    def dispatch(self, st, cid, code, payload):
        st.query("UPDATE clients SET LastSeen = datetime('now') WHERE ID = ?", cid)
        if code in (1029, 1030, 1031):
            with st.lock:
                st.verdict_due.discard(cid)
        if code == 1025:
            name = cstr(payload[:NAME])
            if st.query("SELECT ID FROM clients WHERE Name = ?", name):
                self.reply(2101)
                return True
            new = uuid.uuid4().bytes
            st.query("INSERT INTO clients (ID, Name) VALUES (?, ?)", new, name)
            self.reply(2100, new)
        elif code == 1026:
            name, key = cstr(payload[:NAME]), payload[NAME:NAME + 160]
            if len(key) != 160 or not st.query("SELECT ID FROM clients WHERE ID = ? AND Name = ?", cid, name):
                raise Refused("unknown client")
            pub = serialization.load_der_public_key(key)
            aes = os.urandom(16)
            st.query("UPDATE clients SET PublicKey = ?, AESKey = ? WHERE ID = ?", key, aes, cid)
            self.reply(2102, cid + encrypt_key(pub, aes))
        elif code == 1027:
            name = cstr(payload[:NAME])
            rows = st.query("SELECT PublicKey FROM clients WHERE ID = ? AND Name = ?", cid, name)
            if not rows or rows[0][0] is None:
                self.reply(2106, cid)
                return not st.close_after_denied
            aes = os.urandom(16)
            st.query("UPDATE clients SET AESKey = ? WHERE ID = ?", aes, cid)
            self.reply(2105, cid + encrypt_key(serialization.load_der_public_key(rows[0][0]), aes))
        elif code == 1028:
            (content_size,) = struct.unpack("<I", payload[:4])
            name_field = payload[4:4 + NAME]
            ciphertext = payload[4 + NAME:]
            if len(ciphertext) != content_size:
                raise Refused("content size mismatch")
            rows = st.query("SELECT AESKey FROM clients WHERE ID = ?", cid)
            if not rows or rows[0][0] is None:
                raise Refused("no key")
            with st.lock:
                if cid in st.verdict_due:  # strict, as the spec's flow: 1030 comes before the resend
                    raise Refused("1028 after a wrong checksum without 1030 or 1031")
            dec = Cipher(algorithms.AES(rows[0][0]), modes.CBC(b"\0" * 16)).decryptor()
            unpadder = sympad.PKCS7(128).unpadder()
            plain = unpadder.update(dec.update(ciphertext) + dec.finalize()) + unpadder.finalize()
            name = cstr(name_field)
            path = os.path.join(st.dir, "files", cid.hex() + "_" + os.path.basename(name))
            os.makedirs(os.path.dirname(path), exist_ok=True)
            with open(path, "wb") as f:
                f.write(plain)
            st.query("DELETE FROM files WHERE ID = ? AND FileName = ?", cid, name)
            st.query("INSERT INTO files VALUES (?, ?, ?, 0)", cid, name, path)
            crc = cksum(plain)
            with st.lock:
                if st.corrupt > 0:
                    st.corrupt -= 1
                    crc ^= 0xFFFFFFFF
                    st.verdict_due.add(cid)
            self.reply(2103, cid + struct.pack("<I", content_size) + name_field + struct.pack("<I", crc))
        elif code == 1029:
            st.query("UPDATE files SET Verified = 1 WHERE ID = ? AND FileName = ?", cid, cstr(payload[:NAME]))
            self.reply(2104, cid)
        elif code == 1030:
            if st.ack_1030:
                self.reply(2104, cid)
        elif code == 1031:
            st.query("DELETE FROM files WHERE ID = ? AND FileName = ?", cid, cstr(payload[:NAME]))
            self.reply(2104, cid)
        else:
            raise Refused("unknown code %d" % code)
        return True


def encrypt_key(pub, aes):
    return pub.encrypt(aes, padding.OAEP(mgf=padding.MGF1(hashes.SHA1()), algorithm=hashes.SHA1(), label=None))


class Server(socketserver.ThreadingTCPServer):
    daemon_threads = True
    allow_reuse_address = True


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--dir", required=True)
    ap.add_argument("--port", type=int, default=1357)
    ap.add_argument("--corrupt", type=int, default=0)
    ap.add_argument("--ack-1030", action="store_true")
    ap.add_argument("--close-after-denied", action="store_true")
    ap.add_argument("--one-request", action="store_true")
    a = ap.parse_args()
    srv = Server(("127.0.0.1", a.port), Handler)
    srv.state = State(a.dir, a.corrupt, a.ack_1030, a.close_after_denied, a.one_request)
    print("PORT", srv.server_address[1], flush=True)
    srv.serve_forever()


if __name__ == "__main__":
    main()
