package classic

import (
	"crypto/aes"
	"crypto/cipher"
)

// chunkSize is how much ciphertext either side holds at a time: the file
// streams through a buffer of this size, never whole. A multiple of the AES
// block.
const chunkSize = 64 << 10

// zeroIV is the IV of every classic upload: all zero, as the deployed
// clients use. It is a known weakness of version 3 (equal files give equal
// ciphertexts), kept for compatibility.
var zeroIV [aes.BlockSize]byte

// newEncrypter returns the AES-128-CBC encrypter of an upload.
func newEncrypter(key *[AESKeySize]byte) cipher.BlockMode {
	return cipher.NewCBCEncrypter(newBlock(key), zeroIV[:])
}

// newDecrypter returns the AES-128-CBC decrypter of an upload.
func newDecrypter(key *[AESKeySize]byte) cipher.BlockMode {
	return cipher.NewCBCDecrypter(newBlock(key), zeroIV[:])
}

func newBlock(key *[AESKeySize]byte) cipher.Block {
	b, err := aes.NewCipher(key[:])
	if err != nil {
		panic("classic: internal error: aes: " + err.Error())
	}
	return b
}

// unpad strips the PKCS#7 padding from the decrypted last chunk p (a
// positive multiple of the block size) and returns the plaintext left.
func unpad(p []byte) ([]byte, error) {
	if len(p) == 0 || len(p)%aes.BlockSize != 0 {
		return nil, ErrMalformed
	}
	n := int(p[len(p)-1])
	if n == 0 || n > aes.BlockSize {
		return nil, ErrMalformed
	}
	for _, b := range p[len(p)-n:] {
		if int(b) != n {
			return nil, ErrMalformed
		}
	}
	return p[:len(p)-n], nil
}

// pad appends the PKCS#7 padding of a plaintext whose last partial block is
// p[len(p)-len(p)%16:]; the result is a multiple of the block size.
func pad(p []byte) []byte {
	n := aes.BlockSize - len(p)%aes.BlockSize
	for range n {
		p = append(p, byte(n))
	}
	return p
}

// encryptedSize is the ciphertext size of a plaintext of size bytes.
func encryptedSize(size int64) int64 { return size - size%aes.BlockSize + aes.BlockSize }
