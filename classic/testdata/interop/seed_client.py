#!/usr/bin/env python3
"""An independent client of the seed-004 protocol (version 3) that behaves
like the deployed C++ clients: run in a directory holding transfer.info, it
reconnects with me.info (and priv.key) or registers and writes them, then
sends the file, resending up to three times on a checksum mismatch. Keys are
RSA-1024 with public exponent 17, as Crypto++ makes them. Used only by
ferry's interop tests (go test -tags interop ./classic).

With --template it behaves like the course's client template
(CSocketHandler::sendReceive): a new connection per request, every request
sent in 1024-byte packets (the last zero-padded), and a read of one
1024-byte packet that only the server closing the connection ends early.

It prints one line: "OK <client id hex> <cksum>" or "GAVEUP", and exits 0.
"""
import base64
import os
import secrets
import socket
import struct
import sys

from cryptography.hazmat.primitives import hashes, padding as sympad, serialization
from cryptography.hazmat.primitives.asymmetric import padding, rsa
from cryptography.hazmat.primitives.ciphers import Cipher, algorithms, modes

VERSION = 3
NAME = 255


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


def probable_prime(n):
    if n % 2 == 0:
        return False
    d, s = n - 1, 0
    while d % 2 == 0:
        d, s = d // 2, s + 1
    for _ in range(40):
        x = pow(secrets.randbelow(n - 3) + 2, d, n)
        if x in (1, n - 1):
            continue
        for _ in range(s - 1):
            x = pow(x, 2, n)
            if x == n - 1:
                break
        else:
            return False
    return True


def prime(bits, e):
    while True:
        p = secrets.randbits(bits) | (3 << (bits - 2)) | 1
        if (p - 1) % e and probable_prime(p):
            return p


def generate_key(e=17):
    """RSA-1024 with exponent 17 (cryptography only generates 3 or 65537)."""
    while True:
        p, q = prime(512, e), prime(512, e)
        if p == q:
            continue
        if p < q:
            p, q = q, p
        lam = (p - 1) * (q - 1) // gcd(p - 1, q - 1)
        d = pow(e, -1, lam)
        pub = rsa.RSAPublicNumbers(e, p * q)
        return rsa.RSAPrivateNumbers(p, q, d, d % (p - 1), d % (q - 1), pow(q, -1, p), pub).private_key()


def gcd(a, b):
    while b:
        a, b = b, a % b
    return a


def b64_72(der):
    """Crypto++ Base64Encoder's default output: 72-character lines, each ending in \\n."""
    s = base64.b64encode(der).decode()
    return "".join(s[i:i + 72] + "\n" for i in range(0, len(s), 72))


PACKET = 1024
TEMPLATE = "--template" in sys.argv


class Conn:
    def __init__(self, addr):
        self.addr = addr
        self.cid = b"\0" * 16
        self.s = None if TEMPLATE else self.dial()

    def dial(self):
        host, port = self.addr.rsplit(":", 1)
        return socket.create_connection((host, int(port)), timeout=30)

    def send(self, code, payload):
        frame = self.cid + struct.pack("<BHI", VERSION, code, len(payload)) + payload
        if TEMPLATE:
            if self.s:
                self.s.close()
            self.s = self.dial()
            frame += b"\0" * (-len(frame) % PACKET)
        self.s.sendall(frame)

    def recv_template(self):
        """One packet, or less if the server closes the connection; b"" is silence."""
        buf = bytearray()
        while len(buf) < PACKET:
            chunk = self.s.recv(PACKET - len(buf))
            if not chunk:
                break
            buf += chunk
        self.s.close()
        self.s = None
        return bytes(buf)

    def recv_exact(self, n):
        buf = bytearray()
        while len(buf) < n:
            chunk = self.s.recv(n - len(buf))
            if not chunk:
                raise EOFError("server closed the connection")
            buf += chunk
        return bytes(buf)

    def recv(self):
        if TEMPLATE:
            got = self.recv_template()
            version, code, size = struct.unpack("<BHI", got[:7])
            payload = got[7:7 + size]
            assert len(payload) == size, got
        else:
            version, code, size = struct.unpack("<BHI", self.recv_exact(7))
            payload = self.recv_exact(size)
        if code == 2107:
            raise RuntimeError("server error 2107")
        return code, payload


def field(s):
    b = s.encode("ascii")
    return b + b"\0" * (NAME - len(b))


OAEP = padding.OAEP(mgf=padding.MGF1(hashes.SHA1()), algorithm=hashes.SHA1(), label=None)


def main():
    addr, name, path = [l.rstrip("\r") for l in open("transfer.info").read().split("\n")[:3]]
    c = Conn(addr)
    key = None
    if os.path.exists("me.info"):
        lines = open("me.info").read().split("\n")
        name, c.cid = lines[0].rstrip("\r"), bytes.fromhex(lines[1].strip())
        key = serialization.load_der_private_key(base64.b64decode("".join(lines[2:])), None)
        c.send(1027, field(name))
        code, payload = c.recv()
        if code == 2105:
            aes = key.decrypt(payload[16:], OAEP)
        else:
            key = None
            c = Conn(addr)
    if key is None:
        key = generate_key()
        c.send(1025, field(name))
        code, payload = c.recv()
        if code != 2100:
            raise RuntimeError("registration refused: %d" % code)
        c.cid = payload
        der = key.private_bytes(serialization.Encoding.DER, serialization.PrivateFormat.PKCS8, serialization.NoEncryption())
        with open("me.info", "w") as f:
            f.write(name + "\n" + c.cid.hex().upper() + "\n" + b64_72(der))
        with open("priv.key", "w") as f:
            f.write(b64_72(der))
        spki = key.public_key().public_bytes(serialization.Encoding.DER, serialization.PublicFormat.SubjectPublicKeyInfo)
        assert len(spki) == 160, len(spki)
        c.send(1026, field(name) + spki)
        code, payload = c.recv()
        if code != 2102:
            raise RuntimeError("key exchange refused: %d" % code)
        aes = key.decrypt(payload[16:], OAEP)
    plain = open(path, "rb").read()
    padder = sympad.PKCS7(128).padder()
    enc = Cipher(algorithms.AES(aes), modes.CBC(b"\0" * 16)).encryptor()
    ct = enc.update(padder.update(plain) + padder.finalize()) + enc.finalize()
    fname = field(os.path.basename(path))
    want = cksum(plain)
    for attempt in range(4):
        c.send(1028, struct.pack("<I", len(ct)) + fname + ct)
        code, payload = c.recv()
        if code == 2104 and attempt > 0 and not TEMPLATE:  # some servers acknowledge 1030
            code, payload = c.recv()
        if code != 2103:
            raise RuntimeError("file refused: %d" % code)
        if struct.unpack("<I", payload[-4:])[0] == want:
            c.send(1029, fname)
            code, _ = c.recv()
            assert code == 2104, code
            print("OK", c.cid.hex(), want)
            return
        if attempt < 3:
            c.send(1030, fname)
            if TEMPLATE:
                c.recv_template()  # silence or 2104: both are fine
    c.send(1031, fname)
    code, _ = c.recv()
    assert code == 2104, code
    print("GAVEUP")


if __name__ == "__main__":
    main()
