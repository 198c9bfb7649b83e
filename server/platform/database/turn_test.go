package database

import (
	"context"
	"testing"
	"time"

	"gorm.io/driver/mysql"
	"gorm.io/gorm"
)

// TestTurnsGoInOrder: with every turn of the pool taken, callers get theirs in the order they
// asked, and a caller whose context ends stops waiting.
func TestTurnsGoInOrder(t *testing.T) {
	// A MySQL handle that never connects: Turn only reads the pool's limit.
	gdb, err := gorm.Open(mysql.New(mysql.Config{DSN: "u:p@tcp(127.0.0.1:1)/x", SkipInitializeWithVersion: true}), &gorm.Config{DisableAutomaticPing: true})
	if err != nil {
		t.Fatal(err)
	}
	pool, _ := gdb.DB()
	defer pool.Close()
	pool.SetMaxOpenConns(2)
	ctx := context.Background()
	var held []func()
	for range 2 {
		r, err := Turn(ctx, gdb)
		if err != nil {
			t.Fatal(err)
		}
		held = append(held, r)
	}
	got := make(chan int, 8)
	for i := range 5 {
		go func() {
			r, err := Turn(ctx, gdb)
			if err != nil {
				t.Error(err)
				return
			}
			got <- i
			r()
		}()
		time.Sleep(20 * time.Millisecond) // each is waiting before the next asks
	}
	cut, cancel := context.WithTimeout(ctx, 20*time.Millisecond)
	defer cancel()
	if _, err := Turn(cut, gdb); err == nil {
		t.Fatal("a turn while every one is taken")
	}
	held[0]()
	held[0]() // giving a turn back twice gives back one
	for want := range 5 {
		select {
		case i := <-got:
			if i != want {
				t.Fatalf("caller %d got the turn before caller %d", i, want)
			}
		case <-time.After(5 * time.Second):
			t.Fatal("no turn given")
		}
	}
	held[1]()
}
