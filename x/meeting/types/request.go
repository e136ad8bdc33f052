package types

// IsOpen reports whether a request in status s is still open: pending or
// admitted. An open request is what a roster member needs, what a device
// may leave, and what a new request of the same device would duplicate.
func (s RequestStatus) IsOpen() bool {
	return s == RequestStatus_REQUEST_STATUS_PENDING || s == RequestStatus_REQUEST_STATUS_ADMITTED
}
