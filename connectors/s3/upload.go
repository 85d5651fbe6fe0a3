package s3

import (
	"bytes"
	"context"
	"errors"
	"fmt"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/s3"
	"github.com/aws/aws-sdk-go-v2/service/s3/types"
	"github.com/aws/smithy-go"
)

// minPartSize is S3's smallest part but the last of a multipart upload.
const minPartSize = 5 << 20

// upload is one object being written by a multipart upload: what the
// format writes is gathered into parts of partSize bytes, each sent with
// UploadPart as it fills. Nothing is visible under the key until the
// upload is completed (at a checkpoint), and an aborted upload leaves
// nothing behind. Requests run under ctx, which the sink sets to the
// context of the call that writes (Write, Flush, Prepare).
type upload struct {
	ctx    context.Context
	client *s3.Client
	bucket string
	key    string
	id     string
	buf    []byte // reused across parts: UploadPart has returned before it refills
	size   int
	parts  []completed
}

// completed is one uploaded part, as CompleteMultipartUpload needs it.
type completed struct {
	N    int32  `json:"n"`
	ETag string `json:"etag"`
}

func startUpload(ctx context.Context, client *s3.Client, bucket, key string, buf []byte) (*upload, error) {
	out, err := client.CreateMultipartUpload(ctx, &s3.CreateMultipartUploadInput{Bucket: aws.String(bucket), Key: aws.String(key)})
	if err != nil {
		return nil, fmt.Errorf("starting the upload of s3://%s/%s: %w", bucket, key, err)
	}
	return &upload{ctx: ctx, client: client, bucket: bucket, key: key, id: aws.ToString(out.UploadId), buf: buf[:0], size: cap(buf)}, nil
}

// Write gathers p, sending every part that fills.
func (u *upload) Write(p []byte) (int, error) {
	n := len(p)
	for len(p) > 0 {
		take := min(len(p), u.size-len(u.buf))
		u.buf = append(u.buf, p[:take]...)
		p = p[take:]
		if len(u.buf) == u.size {
			if err := u.send(); err != nil {
				return n - len(p), err
			}
		}
	}
	return n, nil
}

func (u *upload) send() error {
	n := int32(len(u.parts) + 1)
	out, err := u.client.UploadPart(u.ctx, &s3.UploadPartInput{
		Bucket: aws.String(u.bucket), Key: aws.String(u.key), UploadId: aws.String(u.id),
		PartNumber: aws.Int32(n), Body: bytes.NewReader(u.buf), ContentLength: aws.Int64(int64(len(u.buf))),
	})
	if err != nil {
		return fmt.Errorf("uploading part %d of s3://%s/%s: %w", n, u.bucket, u.key, err)
	}
	u.parts = append(u.parts, completed{N: n, ETag: aws.ToString(out.ETag)})
	u.buf = u.buf[:0]
	return nil
}

// finish sends what is left as the last part (S3 allows it to be small).
func (u *upload) finish() error {
	if len(u.buf) > 0 || len(u.parts) == 0 {
		return u.send()
	}
	return nil
}

// abort discards the upload and its parts. It runs when the run failed or
// was cancelled, so it takes a context of its own.
func (u *upload) abort() error {
	_, err := u.client.AbortMultipartUpload(context.WithoutCancel(u.ctx), &s3.AbortMultipartUploadInput{
		Bucket: aws.String(u.bucket), Key: aws.String(u.key), UploadId: aws.String(u.id),
	})
	if err != nil && !isCode(err, "NoSuchUpload") {
		return fmt.Errorf("aborting the upload of s3://%s/%s: %w", u.bucket, u.key, err)
	}
	return nil
}

// complete makes a prepared upload's object visible. A repeated Commit
// finds the upload gone and the object there: it is done.
func complete(ctx context.Context, client *s3.Client, bucket string, p preparedObject) error {
	parts := make([]types.CompletedPart, len(p.Parts))
	for i, c := range p.Parts {
		parts[i] = types.CompletedPart{PartNumber: aws.Int32(c.N), ETag: aws.String(c.ETag)}
	}
	_, err := client.CompleteMultipartUpload(ctx, &s3.CompleteMultipartUploadInput{
		Bucket: aws.String(bucket), Key: aws.String(p.Key), UploadId: aws.String(p.UploadID),
		MultipartUpload: &types.CompletedMultipartUpload{Parts: parts},
	})
	if err == nil || !isCode(err, "NoSuchUpload") {
		if err != nil {
			return fmt.Errorf("completing the upload of s3://%s/%s: %w", bucket, p.Key, err)
		}
		return nil
	}
	if _, herr := client.HeadObject(ctx, &s3.HeadObjectInput{Bucket: aws.String(bucket), Key: aws.String(p.Key)}); herr == nil {
		return nil // completed before
	}
	return fmt.Errorf("prepared upload %s of s3://%s/%s is gone and the object does not exist, so the rows the saved "+
		"position counts as written are not there (was the upload aborted, by a lifecycle rule or another sink "+
		"writing under the same prefix?); weave positions --reset forgets the position, and the next run writes "+
		"everything again (%w)", p.UploadID, bucket, p.Key, err)
}

// isCode reports whether err is an S3 error with that code.
func isCode(err error, code string) bool {
	var ae smithy.APIError
	return errors.As(err, &ae) && ae.ErrorCode() == code
}
