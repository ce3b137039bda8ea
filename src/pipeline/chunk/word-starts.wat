;; Word starts in UTF-16 text, 64 code units a step with SIMD (see word-starts.ts).
;; A word starts at a code unit that is not whitespace and follows whitespace (or the start):
;; the words of /\S+/g. Whitespace is JavaScript's \s, as in whitespace.ts.
;; After editing, run `node scripts/compile-wat.mjs` to regenerate word-starts-wasm.ts.
(module
  ;; Two pages: a window of 65,536 code units (JavaScript writes the text here, window by window).
  (memory (export "memory") 2)
  ;; After a scan that returns -1: word starts it found, and whether its last code unit was whitespace.
  (global $found (export "found") (mut i32) (i32.const 0))
  (global $lastSpace (export "lastSpace") (mut i32) (i32.const 0))

  ;; All ones in the lanes that hold \s, for code units below 0x80.
  (func $asciiSpaces (param $v v128) (result v128)
    (v128.or
      (i16x8.le_u
        (i16x8.sub (local.get $v) (v128.const i16x8 9 9 9 9 9 9 9 9))
        (v128.const i16x8 4 4 4 4 4 4 4 4))
      (i16x8.eq (local.get $v) (v128.const i16x8 0x20 0x20 0x20 0x20 0x20 0x20 0x20 0x20))))

  ;; All ones in the lanes that hold \s, for any code unit (every \s is in the BMP).
  (func $allSpaces (param $v v128) (result v128)
    (v128.or
      (v128.or
        (v128.or
          (call $asciiSpaces (local.get $v))
          (i16x8.le_u
            (i16x8.sub (local.get $v) (v128.const i16x8 0x2000 0x2000 0x2000 0x2000 0x2000 0x2000 0x2000 0x2000))
            (v128.const i16x8 10 10 10 10 10 10 10 10)))
        (v128.or
          (v128.or
            (i16x8.eq (local.get $v) (v128.const i16x8 0xa0 0xa0 0xa0 0xa0 0xa0 0xa0 0xa0 0xa0))
            (i16x8.eq (local.get $v) (v128.const i16x8 0x1680 0x1680 0x1680 0x1680 0x1680 0x1680 0x1680 0x1680)))
          (v128.or
            (i16x8.eq (local.get $v) (v128.const i16x8 0x2028 0x2028 0x2028 0x2028 0x2028 0x2028 0x2028 0x2028))
            (i16x8.eq (local.get $v) (v128.const i16x8 0x2029 0x2029 0x2029 0x2029 0x2029 0x2029 0x2029 0x2029)))))
      (v128.or
        (v128.or
          (i16x8.eq (local.get $v) (v128.const i16x8 0x202f 0x202f 0x202f 0x202f 0x202f 0x202f 0x202f 0x202f))
          (i16x8.eq (local.get $v) (v128.const i16x8 0x205f 0x205f 0x205f 0x205f 0x205f 0x205f 0x205f 0x205f)))
        (v128.or
          (i16x8.eq (local.get $v) (v128.const i16x8 0x3000 0x3000 0x3000 0x3000 0x3000 0x3000 0x3000 0x3000))
          (i16x8.eq (local.get $v) (v128.const i16x8 0xfeff 0xfeff 0xfeff 0xfeff 0xfeff 0xfeff 0xfeff 0xfeff))))))

  ;; The 64 code units at byte address $at as 64 bits, 1 where a unit is whitespace. Written out
  ;; rather than calling $asciiSpaces: Node 20's V8 does not inline wasm calls.
  (func $blockSpaces (param $at i32) (result i64)
    (local $a v128) (local $b v128) (local $c v128) (local $d v128)
    (local $e v128) (local $f v128) (local $g v128) (local $h v128)
    (local $nine v128) (local $four v128) (local $blank v128)
    (local.set $a (v128.load offset=0 (local.get $at)))
    (local.set $b (v128.load offset=16 (local.get $at)))
    (local.set $c (v128.load offset=32 (local.get $at)))
    (local.set $d (v128.load offset=48 (local.get $at)))
    (local.set $e (v128.load offset=64 (local.get $at)))
    (local.set $f (v128.load offset=80 (local.get $at)))
    (local.set $g (v128.load offset=96 (local.get $at)))
    (local.set $h (v128.load offset=112 (local.get $at)))
    (if (v128.any_true
          (i16x8.gt_u
            (v128.or
              (v128.or (v128.or (local.get $a) (local.get $b)) (v128.or (local.get $c) (local.get $d)))
              (v128.or (v128.or (local.get $e) (local.get $f)) (v128.or (local.get $g) (local.get $h))))
            (v128.const i16x8 0x7f 0x7f 0x7f 0x7f 0x7f 0x7f 0x7f 0x7f)))
      (then
        (local.set $a (call $allSpaces (local.get $a)))
        (local.set $b (call $allSpaces (local.get $b)))
        (local.set $c (call $allSpaces (local.get $c)))
        (local.set $d (call $allSpaces (local.get $d)))
        (local.set $e (call $allSpaces (local.get $e)))
        (local.set $f (call $allSpaces (local.get $f)))
        (local.set $g (call $allSpaces (local.get $g)))
        (local.set $h (call $allSpaces (local.get $h))))
      (else
        (local.set $nine (v128.const i16x8 9 9 9 9 9 9 9 9))
        (local.set $four (v128.const i16x8 4 4 4 4 4 4 4 4))
        (local.set $blank (v128.const i16x8 0x20 0x20 0x20 0x20 0x20 0x20 0x20 0x20))
        (local.set $a (v128.or (i16x8.le_u (i16x8.sub (local.get $a) (local.get $nine)) (local.get $four))
                                (i16x8.eq (local.get $a) (local.get $blank))))
        (local.set $b (v128.or (i16x8.le_u (i16x8.sub (local.get $b) (local.get $nine)) (local.get $four))
                                (i16x8.eq (local.get $b) (local.get $blank))))
        (local.set $c (v128.or (i16x8.le_u (i16x8.sub (local.get $c) (local.get $nine)) (local.get $four))
                                (i16x8.eq (local.get $c) (local.get $blank))))
        (local.set $d (v128.or (i16x8.le_u (i16x8.sub (local.get $d) (local.get $nine)) (local.get $four))
                                (i16x8.eq (local.get $d) (local.get $blank))))
        (local.set $e (v128.or (i16x8.le_u (i16x8.sub (local.get $e) (local.get $nine)) (local.get $four))
                                (i16x8.eq (local.get $e) (local.get $blank))))
        (local.set $f (v128.or (i16x8.le_u (i16x8.sub (local.get $f) (local.get $nine)) (local.get $four))
                                (i16x8.eq (local.get $f) (local.get $blank))))
        (local.set $g (v128.or (i16x8.le_u (i16x8.sub (local.get $g) (local.get $nine)) (local.get $four))
                                (i16x8.eq (local.get $g) (local.get $blank))))
        (local.set $h (v128.or (i16x8.le_u (i16x8.sub (local.get $h) (local.get $nine)) (local.get $four))
                                (i16x8.eq (local.get $h) (local.get $blank))))))
    ;; narrowed to bytes, code unit k of the block at bit k
    (i64.or
      (i64.or
        (i64.extend_i32_u (i8x16.bitmask (i8x16.narrow_i16x8_s (local.get $a) (local.get $b))))
        (i64.shl (i64.extend_i32_u (i8x16.bitmask (i8x16.narrow_i16x8_s (local.get $c) (local.get $d)))) (i64.const 16)))
      (i64.or
        (i64.shl (i64.extend_i32_u (i8x16.bitmask (i8x16.narrow_i16x8_s (local.get $e) (local.get $f)))) (i64.const 32))
        (i64.shl (i64.extend_i32_u (i8x16.bitmask (i8x16.narrow_i16x8_s (local.get $g) (local.get $h)))) (i64.const 48)))))

  ;; The offset of the $n-th (from 1) set bit of $bits.
  (func $nthBit (param $bits i64) (param $n i32) (result i32)
    (block $done
      (loop $next
        (br_if $done (i32.le_u (local.get $n) (i32.const 1)))
        (local.set $bits (i64.and (local.get $bits) (i64.sub (local.get $bits) (i64.const 1))))
        (local.set $n (i32.sub (local.get $n) (i32.const 1)))
        (br $next)))
    (i32.wrap_i64 (i64.ctz (local.get $bits))))

  ;; The offset of the $need-th (from 1) word start in code units [$from, $end) of memory, where
  ;; the unit before $from is whitespace if $space is 1. With fewer, -1, and $found and $lastSpace
  ;; set. $end is at most 65,536; units past it are read but not counted.
  (func (export "scan") (param $from i32) (param $end i32) (param $need i32) (param $space i32) (result i32)
    (local $block i32) (local $left i32) (local $count i32)
    (local $spaces i64) (local $starts i64) (local $carry i64)
    (global.set $found (i32.const 0))
    (global.set $lastSpace (local.get $space))
    (if (i32.ge_u (local.get $from) (local.get $end)) (then (return (i32.const -1))))
    (local.set $block (i32.and (local.get $from) (i32.const -64)))
    (local.set $spaces (call $blockSpaces (i32.shl (local.get $block) (i32.const 1))))
    (local.set $starts
      (i64.and
        (i64.and
          (i64.xor (local.get $spaces) (i64.const -1))
          (i64.or (i64.shl (local.get $spaces) (i64.const 1)) (i64.extend_i32_u (local.get $space))))
        ;; no starts before $from
        (i64.shl (i64.const -1) (i64.extend_i32_u (i32.sub (local.get $from) (local.get $block))))))
    (loop $blocks
      (local.set $left (i32.sub (local.get $end) (local.get $block)))
      (if (i32.le_u (local.get $left) (i32.const 64))
        (then
          ;; the last block: no starts at or past $end
          (if (i32.lt_u (local.get $left) (i32.const 64))
            (then
              (local.set $starts
                (i64.and (local.get $starts)
                  (i64.sub (i64.shl (i64.const 1) (i64.extend_i32_u (local.get $left))) (i64.const 1))))))
          (local.set $count (i32.wrap_i64 (i64.popcnt (local.get $starts))))
          (if (i32.ge_u (local.get $count) (local.get $need))
            (then (return (i32.add (local.get $block) (call $nthBit (local.get $starts) (local.get $need))))))
          (global.set $found (i32.add (global.get $found) (local.get $count)))
          (global.set $lastSpace
            (i32.wrap_i64
              (i64.and
                (i64.shr_u (local.get $spaces) (i64.extend_i32_u (i32.sub (local.get $left) (i32.const 1))))
                (i64.const 1))))
          (return (i32.const -1))))
      (local.set $count (i32.wrap_i64 (i64.popcnt (local.get $starts))))
      (if (i32.ge_u (local.get $count) (local.get $need))
        (then (return (i32.add (local.get $block) (call $nthBit (local.get $starts) (local.get $need))))))
      (local.set $need (i32.sub (local.get $need) (local.get $count)))
      (global.set $found (i32.add (global.get $found) (local.get $count)))
      (local.set $block (i32.add (local.get $block) (i32.const 64)))
      ;; the unit before this block's first is the previous block's last
      (local.set $carry (i64.shr_u (local.get $spaces) (i64.const 63)))
      (local.set $spaces (call $blockSpaces (i32.shl (local.get $block) (i32.const 1))))
      (local.set $starts
        (i64.and
          (i64.xor (local.get $spaces) (i64.const -1))
          (i64.or (i64.shl (local.get $spaces) (i64.const 1)) (local.get $carry))))
      (br $blocks))
    (unreachable))
)
