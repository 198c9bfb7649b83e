package secret

import (
	"strings"
	"testing"
)

const key = "MDEyMzQ1Njc4OWFiY2RlZjAxMjM0NTY3ODlhYmNkZWY="

func TestEncryptDecryptHash(t *testing.T) {
	b, err := NewBox(key)
	if err != nil {
		t.Fatal(err)
	}
	c1, _ := b.Encrypt("13812345678")
	c2, _ := b.Encrypt("13812345678")
	if c1 == c2 || strings.Contains(c1, "13812345678") {
		t.Fatal("ciphertexts must differ and hide the plaintext")
	}
	if p, err := b.Decrypt(c1); err != nil || p != "13812345678" {
		t.Fatalf("decrypt: %q %v", p, err)
	}
	if b.Hash("13812345678") != b.Hash(" 13812345678 ") || b.Hash("1") == b.Hash("2") || b.Hash("") != "" {
		t.Fatal("blind index")
	}
	other, _ := NewBox("ZmVkY2JhOTg3NjU0MzIxMGZlZGNiYTk4NzY1NDMyMTA=")
	if _, err := other.Decrypt(c1); err == nil {
		t.Fatal("another key decrypted")
	}
	if other.Hash("13812345678") == b.Hash("13812345678") {
		t.Fatal("hash must be keyed")
	}
	if _, err := b.Decrypt("v1:" + c1[3:len(c1)-2] + "AA"); err == nil {
		t.Fatal("tampered ciphertext accepted")
	}
}

func TestMasks(t *testing.T) {
	if MaskPhone("13812345678") != "138****5678" || MaskIDNumber("130102198001011232") != "130102********1232" || MaskName("马建国") != "马**" {
		t.Fatal("masks")
	}
}
