// seed_client.cpp: a client of the seed-004 protocol (version 3) built the
// way the deployed clients are, on Crypto++ and Boost.Asio, so that ferry's
// classic server is tested against the real libraries' encodings: the RSA
// key Crypto++ generates (public exponent 17, a 160-byte SubjectPublicKeyInfo),
// its PKCS#8 private key and Base64Encoder line breaks in me.info and
// priv.key, its OAEP-SHA1 and AES-CBC with PKCS#7 padding. Used only by
// ferry's interop tests (go test -tags interop ./classic).
//
// Run in a directory holding transfer.info (host:port, name, file path): it
// reconnects with me.info and priv.key, or registers and writes them; sends
// the file; resends up to three times on a checksum mismatch. It prints one
// line, "OK <client id hex> <cksum>" or "GAVEUP", and exits 0; on an error
// it says what went wrong on stderr and exits 1.
//
// Build: g++ -O2 -std=c++17 seed_client.cpp -o seed_client -lcryptopp -pthread

#include <boost/asio.hpp>
#include <crypto++/aes.h>
#include <crypto++/base64.h>
#include <crypto++/filters.h>
#include <crypto++/modes.h>
#include <crypto++/osrng.h>
#include <crypto++/rsa.h>

#include <array>
#include <cstdint>
#include <fstream>
#include <iostream>
#include <sstream>
#include <stdexcept>
#include <string>
#include <vector>

using boost::asio::ip::tcp;

namespace {

const uint8_t kVersion = 3;
const size_t kName = 255;

// POSIX cksum(1): CRC-32 (polynomial 0x04C11DB7) MSB first over the data,
// then over the length's bytes, least significant first, complemented.
uint32_t cksum(const std::string& data) {
    static std::array<uint32_t, 256> table = [] {
        std::array<uint32_t, 256> t{};
        for (uint32_t i = 0; i < 256; i++) {
            uint32_t c = i << 24;
            for (int k = 0; k < 8; k++) c = (c & 0x80000000u) ? (c << 1) ^ 0x04C11DB7u : (c << 1);
            t[i] = c;
        }
        return t;
    }();
    uint32_t crc = 0;
    for (unsigned char b : data) crc = (crc << 8) ^ table[(crc >> 24) ^ b];
    for (uint64_t n = data.size(); n; n >>= 8) crc = (crc << 8) ^ table[(crc >> 24) ^ (n & 0xff)];
    return ~crc;
}

void put16(std::string& s, uint16_t v) {
    s += char(v & 0xff);
    s += char(v >> 8);
}

void put32(std::string& s, uint32_t v) {
    for (int i = 0; i < 4; i++) s += char((v >> (8 * i)) & 0xff);
}

uint32_t get32(const std::string& s, size_t at) {
    uint32_t v = 0;
    for (int i = 3; i >= 0; i--) v = (v << 8) | uint8_t(s[at + i]);
    return v;
}

std::string field(const std::string& s) {
    if (s.size() >= kName) throw std::runtime_error("name too long: " + s);
    return s + std::string(kName - s.size(), '\0');
}

std::string hex(const std::string& b, bool upper) {
    const char* digits = upper ? "0123456789ABCDEF" : "0123456789abcdef";
    std::string out;
    for (unsigned char c : b) {
        out += digits[c >> 4];
        out += digits[c & 15];
    }
    return out;
}

std::string unhex(const std::string& h) {
    if (h.size() != 32) throw std::runtime_error("me.info: client ID is not 32 hex digits");
    std::string out;
    for (size_t i = 0; i < h.size(); i += 2) out += char(std::stoi(h.substr(i, 2), nullptr, 16));
    return out;
}

std::string readFile(const std::string& path) {
    std::ifstream f(path, std::ios::binary);
    if (!f) throw std::runtime_error("cannot read " + path);
    std::ostringstream ss;
    ss << f.rdbuf();
    return ss.str();
}

std::string chomp(std::string s) {
    while (!s.empty() && (s.back() == '\r' || s.back() == '\n')) s.pop_back();
    return s;
}

struct Response {
    uint16_t code;
    std::string payload;
};

class Conn {
public:
    explicit Conn(const std::string& addr) : socket_(io_) {
        auto colon = addr.rfind(':');
        if (colon == std::string::npos) throw std::runtime_error("transfer.info: address without port: " + addr);
        tcp::resolver resolver(io_);
        boost::asio::connect(socket_, resolver.resolve(addr.substr(0, colon), addr.substr(colon + 1)));
    }

    std::string id = std::string(16, '\0');

    void send(uint16_t code, const std::string& payload) {
        std::string frame = id;
        frame += char(kVersion);
        put16(frame, code);
        put32(frame, uint32_t(payload.size()));
        frame += payload;
        boost::asio::write(socket_, boost::asio::buffer(frame));
    }

    Response recv() {
        std::array<char, 7> h{};
        boost::asio::read(socket_, boost::asio::buffer(h));
        std::string head(h.data(), h.size());
        Response r;
        r.code = uint16_t(uint8_t(head[1]) | uint8_t(head[2]) << 8);
        r.payload.resize(get32(head, 3));
        if (!r.payload.empty()) boost::asio::read(socket_, boost::asio::buffer(&r.payload[0], r.payload.size()));
        if (r.code == 2107) throw std::runtime_error("server error 2107");
        return r;
    }

private:
    boost::asio::io_context io_;
    tcp::socket socket_;
};

std::string base64(const std::string& der) {
    std::string out;  // Base64Encoder's defaults: line breaks every 72 characters
    CryptoPP::StringSource(der, true, new CryptoPP::Base64Encoder(new CryptoPP::StringSink(out)));
    return out;
}

std::string oaepDecrypt(CryptoPP::AutoSeededRandomPool& rng, const CryptoPP::RSA::PrivateKey& key, const std::string& ct) {
    std::string out;
    CryptoPP::RSAES_OAEP_SHA_Decryptor d(key);
    CryptoPP::StringSource(ct, true, new CryptoPP::PK_DecryptorFilter(rng, d, new CryptoPP::StringSink(out)));
    return out;
}

int run() {
    std::istringstream info(readFile("transfer.info"));
    std::string addr, name, path;
    std::getline(info, addr);
    std::getline(info, name);
    std::getline(info, path);
    addr = chomp(addr), name = chomp(name), path = chomp(path);

    CryptoPP::AutoSeededRandomPool rng;
    CryptoPP::RSA::PrivateKey key;
    std::string aes;
    auto conn = std::make_unique<Conn>(addr);
    bool haveKey = false;

    std::ifstream me("me.info");
    if (me) {
        std::string idHex, line, b64;
        std::getline(me, name);
        std::getline(me, idHex);
        name = chomp(name);
        while (std::getline(me, line)) b64 += chomp(line);
        conn->id = unhex(chomp(idHex));
        std::string der;
        CryptoPP::StringSource(b64, true, new CryptoPP::Base64Decoder(new CryptoPP::StringSink(der)));
        CryptoPP::StringSource src(der, true);
        key.BERDecode(src);
        conn->send(1027, field(name));
        Response r = conn->recv();
        if (r.code == 2105) {
            aes = oaepDecrypt(rng, key, r.payload.substr(16));
            haveKey = true;
        } else {
            conn = std::make_unique<Conn>(addr);  // denied (2106): register anew
        }
    }
    if (!haveKey) {
        key.GenerateRandomWithKeySize(rng, 1024);  // Crypto++'s default exponent: 17
        conn->send(1025, field(name));
        Response r = conn->recv();
        if (r.code != 2100 || r.payload.size() != 16) throw std::runtime_error("registration refused: " + std::to_string(r.code));
        conn->id = r.payload;
        std::string der;
        CryptoPP::StringSink sink(der);
        key.DEREncode(sink);  // PKCS#8 PrivateKeyInfo
        std::ofstream("me.info") << name << "\n" << hex(conn->id, true) << "\n" << base64(der);
        std::ofstream("priv.key") << base64(der);

        std::string spki;
        CryptoPP::StringSink pubSink(spki);
        CryptoPP::RSA::PublicKey(key).DEREncode(pubSink);  // SubjectPublicKeyInfo
        if (spki.size() != 160) throw std::runtime_error("public key is " + std::to_string(spki.size()) + " bytes, not 160");
        conn->send(1026, field(name) + spki);
        r = conn->recv();
        if (r.code != 2102) throw std::runtime_error("key exchange refused: " + std::to_string(r.code));
        aes = oaepDecrypt(rng, key, r.payload.substr(16));
    }
    if (aes.size() != 16) throw std::runtime_error("AES key of " + std::to_string(aes.size()) + " bytes");

    std::string plain = readFile(path), ct;
    CryptoPP::byte iv[CryptoPP::AES::BLOCKSIZE] = {};
    CryptoPP::CBC_Mode<CryptoPP::AES>::Encryption enc;
    enc.SetKeyWithIV(reinterpret_cast<const CryptoPP::byte*>(aes.data()), aes.size(), iv);
    CryptoPP::StringSource(plain, true, new CryptoPP::StreamTransformationFilter(enc, new CryptoPP::StringSink(ct)));

    std::string base = path.substr(path.find_last_of('/') == std::string::npos ? 0 : path.find_last_of('/') + 1);
    std::string fname = field(base);
    uint32_t want = cksum(plain);
    for (int attempt = 0; attempt < 4; attempt++) {
        std::string req;
        put32(req, uint32_t(ct.size()));
        conn->send(1028, req + fname + ct);
        Response r = conn->recv();
        if (r.code == 2104 && attempt > 0) r = conn->recv();  // some servers acknowledge 1030
        if (r.code != 2103 || r.payload.size() < 4) throw std::runtime_error("file refused: " + std::to_string(r.code));
        if (get32(r.payload, r.payload.size() - 4) == want) {
            conn->send(1029, fname);
            if (conn->recv().code != 2104) throw std::runtime_error("no 2104 after 1029");
            std::cout << "OK " << hex(conn->id, false) << " " << want << std::endl;
            return 0;
        }
        if (attempt < 3) conn->send(1030, fname);
    }
    conn->send(1031, fname);
    if (conn->recv().code != 2104) throw std::runtime_error("no 2104 after 1031");
    std::cout << "GAVEUP" << std::endl;
    return 0;
}

}  // namespace

int main() {
    try {
        return run();
    } catch (const std::exception& e) {
        std::cerr << "seed_client: " << e.what() << std::endl;
        return 1;
    }
}
