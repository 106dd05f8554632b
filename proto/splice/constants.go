// SPDX-License-Identifier: GPL-2.0-or-later

package splice

import "time"

const (
	// defaultCapacity is the connection table size when Config.Capacity
	// is 0.
	defaultCapacity = 4096
	// maxCapacity keeps slot<<1|side within flow.MaxIndex.
	maxCapacity = 1 << 22

	// maxPipeSize is where the pipe size probe starts, passt's
	// MAX_PIPE_SIZE.
	maxPipeSize = 8 << 20
	// minPipeSize is the kernel's default pipe size.
	minPipeSize = 64 << 10
	// pipeProbeCount is how many pipes the probe enlarges at once, as
	// passt's TCP_SPLICE_PIPE_POOL_SIZE.
	pipeProbeCount = 32

	// maxRounds bounds the pipe-fulls moved per direction per wake-up.
	maxRounds = 16
	// streamRead is the read size from which relay takes the sender
	// for streaming and reads again before waiting (passt goes on
	// after reads of a tenth of its pipe or more).
	streamRead = 64 << 10
	// maxRoundsAfterFin bounds the same once our FIN was sent to the
	// sender, whose socket then holds a finite amount of data.
	maxRoundsAfterFin = 1 << 20
	// maxAcceptBatch bounds the connections accepted per listener event.
	maxAcceptBatch = 64
	// acceptPause is how long a listener rests after accept failed for
	// want of file descriptors or memory.
	acceptPause = int64(100 * time.Millisecond)
)
