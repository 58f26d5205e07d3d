package eventstore

import (
	"errors"

	"github.com/nats-io/nats.go/jetstream"
	"github.com/synadia-io/orbit.go/jetstreamext"
)

var (
	// ErrConflict means the expectation of an append failed: another writer
	// appended to the aggregate since it was loaded. Reload and decide again.
	ErrConflict = errors.New("eventstore: concurrent append (wrong last sequence)")
	// ErrDuplicate means a message of the batch carried a Nats-Msg-Id the
	// stream has already stored: the command was applied before.
	ErrDuplicate = errors.New("eventstore: batch already applied (duplicate Nats-Msg-Id)")
	// ErrUnsettled means the stream holds or is storing an append under
	// the batch's Nats-Msg-Id that cannot be read back yet (it is still in
	// flight, or the replica read lags). Retry later.
	ErrUnsettled = errors.New("eventstore: an append with this id is in flight; retry")
	// ErrReplicaBehind means a read was answered by a replica that has not
	// applied what the stream's leader holds yet; read again.
	ErrReplicaBehind = errors.New("eventstore: the replica that answered is behind the leader; read again")
	// ErrStreamSettings means the stream exists with settings the store
	// cannot work with (and may not change them).
	ErrStreamSettings = errors.New("eventstore: stream settings do not fit")
)

// classify maps JetStream API errors of an append to the store's sentinels.
func classify(err error) error {
	var apiErr *jetstream.APIError
	if !errors.As(err, &apiErr) {
		return err
	}
	switch apiErr.ErrorCode {
	case jetstream.JSErrCodeStreamWrongLastSequence, jetstream.JSErrCodeStreamWrongLastSequenceConstant:
		return errors.Join(ErrConflict, err)
	case jetstreamext.JSErrCodeBatchPublishDuplicateMsgID:
		return errors.Join(ErrDuplicate, err)
	case errCodeDuplicateInProcess:
		return errors.Join(ErrUnsettled, err)
	}
	return err
}

// errCodeDuplicateInProcess (10158): a message with this Nats-Msg-Id is
// being stored right now (a retry raced the original).
const errCodeDuplicateInProcess = 10158
