// Package outbox is the contract between the services that report a change and the notification
// service that tells people about it: the event row, written in the transaction of the change,
// and one payload type per kind of event. A producer writes a payload of this package and notify
// decodes the same type, so a field renamed on one side is renamed on the other.
package outbox

import (
	"encoding/json"
	"errors"
	"fmt"
	"reflect"
	"sort"
	"time"

	"gorm.io/gorm"
)

// Event is a row of the outbox; the dispatcher marks it consumed once fanned out.
type Event struct {
	ID          int64
	Kind        string
	SubjectType string
	SubjectID   int64
	RegionCode  string
	Payload     string
	CreatedAt   time.Time
	ConsumedAt  *time.Time
}

func (Event) TableName() string { return "events" }

// Kind is an event kind. Its name is unexported so that only this package makes kinds: a
// producer can only write one of the kinds declared here, each bound to its payload type.
type Kind struct{ name string }

func (k Kind) String() string { return k.name }

// IsZero reports the zero Kind, which stands for "write no event".
func (k Kind) IsZero() bool { return k.name == "" }

// Payload is what an event says. Only the payload types of this package implement it (the
// unexported method), so nothing else can be written to the outbox.
type Payload interface {
	Kind() Kind
	payload()
}

// kindInfo binds a kind to the payload type it is written and read with.
type kindInfo struct {
	typ    reflect.Type
	decode func(k Kind, raw []byte) (Payload, error)
}

var registry = map[string]kindInfo{}

// declare registers a kind whose payload type is P.
func declare[P Payload](name string) Kind {
	if _, dup := registry[name]; dup {
		panic("outbox: kind declared twice: " + name)
	}
	registry[name] = kindInfo{typ: reflect.TypeFor[P](), decode: decodeAs[P]}
	return Kind{name}
}

// multiKind is a payload type written under several kinds; the row's kind is set on decoding.
type multiKind interface{ setKind(Kind) }

func decodeAs[P Payload](k Kind, raw []byte) (Payload, error) {
	var p P
	if len(raw) > 0 {
		if err := json.Unmarshal(raw, &p); err != nil {
			return nil, err
		}
	}
	if m, ok := any(&p).(multiKind); ok {
		m.setKind(k)
	}
	return p, nil
}

// Kinds are every declared kind, by name.
func Kinds() []Kind {
	out := make([]Kind, 0, len(registry))
	for name := range registry {
		out = append(out, Kind{name})
	}
	sort.Slice(out, func(i, j int) bool { return out[i].name < out[j].name })
	return out
}

// Entry is an event to write: what it is about, when, and what it says.
type Entry struct {
	SubjectType string
	SubjectID   int64
	RegionCode  string
	At          time.Time
	Payload     Payload
}

// Write inserts the event in tx, the transaction of the change it reports.
func Write(tx *gorm.DB, e Entry) error {
	if e.Payload == nil {
		return errors.New("outbox: no payload")
	}
	k := e.Payload.Kind()
	info, ok := registry[k.name]
	if !ok || info.typ != reflect.TypeOf(e.Payload) {
		return fmt.Errorf("outbox: a %T cannot be written as kind %q", e.Payload, k.name)
	}
	b, err := json.Marshal(e.Payload)
	if err != nil {
		return err
	}
	return tx.Create(&Event{Kind: k.name, SubjectType: e.SubjectType, SubjectID: e.SubjectID, RegionCode: e.RegionCode,
		Payload: string(b), CreatedAt: e.At}).Error
}

// ErrUnknownKind is a row whose kind is not declared (written by an older version that had it).
var ErrUnknownKind = errors.New("outbox: unknown event kind")

// Decode reads a row's payload as the type its kind is written with. An empty payload is the
// type's zero value.
func Decode(ev Event) (Payload, error) {
	info, ok := registry[ev.Kind]
	if !ok {
		return nil, fmt.Errorf("%w %q", ErrUnknownKind, ev.Kind)
	}
	p, err := info.decode(Kind{ev.Kind}, []byte(ev.Payload))
	if err != nil {
		return nil, fmt.Errorf("outbox: event %d (%s): %w", ev.ID, ev.Kind, err)
	}
	return p, nil
}
