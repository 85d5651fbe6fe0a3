;; positive: keeps the rows whose int64 column "id" is greater than zero.
;; The whole DataWeaver ABI v1 (wasmabi/ABI.md) in one hand-written module,
;; with no SDK and no imports: the same as
;;
;;   stages:
;;     - wasm: transforms/filter/filter.wasm
;;       config: {column: id, op: ">", value: 0}
;;
;; Build: wat2wasm positive.wat -o positive.wasm   (or: weave build .)
(module
  ;; Page 0 holds the bind answer and globals; input starts at page 1.
  (memory (export "memory") 1)

  ;; Where the result header and selection bitmap go: just past the input
  ;; region, set by dw_reserve.
  (global $scratch (mut i32) (i32.const 0))

  ;; The bind answer: u32 length, then the JSON. It never changes, so it is
  ;; a data segment; a real transform reads the request (config, schema)
  ;; and builds this text.
  (data (i32.const 16) "\40\00\00\00" "{\"reads\":[\"id\"],\"writes\":[],\"drops\":[],\"filter\":true,\"error\":\"\"}")

  (func (export "dw_abi_version") (result i32) (i32.const 1))

  ;; dw_reserve(size): the host will write a batch of `size` bytes at the
  ;; returned pointer. Room is made for the input at 64 KiB, then a 64-byte
  ;; result header and a selection bitmap. A row of an int64 column takes
  ;; 8 input bytes, so the bitmap (1 bit a row) needs under size/64+1 bytes:
  ;; size/8 is ample.
  (func (export "dw_reserve") (param $size i32) (result i32)
    (local $end i32) (local $pages i32)
    ;; scratch = align64(65536 + size)
    (global.set $scratch
      (i32.and (i32.add (i32.add (i32.const 65536) (local.get $size)) (i32.const 63))
               (i32.const -64)))
    (local.set $end (i32.add (i32.add (global.get $scratch) (i32.const 128))
                             (i32.shr_u (local.get $size) (i32.const 3))))
    ;; Grow memory to cover $end (pages of 64 KiB); -1 means the host's cap.
    (local.set $pages (i32.shr_u (i32.add (local.get $end) (i32.const 65535)) (i32.const 16)))
    (if (i32.gt_u (local.get $pages) (memory.size))
      (then
        (if (i32.eq (memory.grow (i32.sub (local.get $pages) (memory.size))) (i32.const -1))
          (then (return (i32.const 0))))))
    (i32.const 65536))

  ;; dw_bind(ptr, len): ignore the request, return the fixed answer.
  (func (export "dw_bind") (param $ptr i32) (param $len i32) (result i32)
    (i32.const 16))

  ;; dw_process(batch): batch header = nrows, ncols, flags, reserved, then
  ;; one 32-byte descriptor per column read (here only "id"):
  ;; +12 validity pointer (0 = no nulls), +20 values pointer.
  (func (export "dw_process") (param $batch i32) (result i32)
    (local $n i32) (local $values i32) (local $validity i32)
    (local $sel i32) (local $i i32) (local $byte i32) (local $k i32)
    (local.set $n (i32.load (local.get $batch)))
    (local.set $validity (i32.load offset=28 (local.get $batch)))
    (local.set $values (i32.load offset=36 (local.get $batch)))
    (local.set $sel (i32.add (global.get $scratch) (i32.const 64)))

    ;; One selection byte per 8 rows: bit k set when row i+k is kept.
    (block $done
      (loop $rows
        (br_if $done (i32.ge_u (local.get $i) (local.get $n)))
        (local.set $byte (i32.const 0))
        (local.set $k (i32.const 0))
        (block $full
          (loop $bits
            (br_if $full (i32.or (i32.eq (local.get $k) (i32.const 8))
                                 (i32.ge_u (i32.add (local.get $i) (local.get $k)) (local.get $n))))
            ;; id > 0 ?
            (if (i64.gt_s (i64.load (i32.add (local.get $values)
                                             (i32.shl (i32.add (local.get $i) (local.get $k)) (i32.const 3))))
                          (i64.const 0))
              (then (local.set $byte (i32.or (local.get $byte) (i32.shl (i32.const 1) (local.get $k))))))
            (local.set $k (i32.add (local.get $k) (i32.const 1)))
            (br $bits)))
        ;; A null row is never kept: AND with the validity bitmap's byte.
        (if (local.get $validity)
          (then (local.set $byte (i32.and (local.get $byte)
                  (i32.load8_u (i32.add (local.get $validity) (i32.shr_u (local.get $i) (i32.const 3))))))))
        (i32.store8 (i32.add (local.get $sel) (i32.shr_u (local.get $i) (i32.const 3))) (local.get $byte))
        (local.set $i (i32.add (local.get $i) (i32.const 8)))
        (br $rows)))

    ;; Result header: status 0, no message, selection = 1 (bitmap) at $sel
    ;; of ceil(n/8) bytes, no output columns, no row errors.
    (i32.store offset=0 (global.get $scratch) (i32.const 0))
    (i32.store offset=4 (global.get $scratch) (i32.const 0))
    (i32.store offset=8 (global.get $scratch) (i32.const 0))
    (i32.store offset=12 (global.get $scratch) (i32.const 1))
    (i32.store offset=16 (global.get $scratch) (local.get $sel))
    (i32.store offset=20 (global.get $scratch)
      (i32.shr_u (i32.add (local.get $n) (i32.const 7)) (i32.const 3)))
    (i32.store offset=24 (global.get $scratch) (i32.const 0))
    (i32.store offset=28 (global.get $scratch) (i32.const 0))
    (i32.store offset=32 (global.get $scratch) (i32.const 0))
    (i32.store offset=36 (global.get $scratch) (i32.const 0))
    (global.get $scratch))
)
