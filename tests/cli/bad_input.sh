#!/usr/bin/env bash
# tests/cli/bad_input.sh — the bad-input matrix of the `oblivio` command line (issue #7).
#
#   bash tests/cli/bad_input.sh /path/to/oblivio     (ctest: Cli_bad_input)
#
# Feeds `forget`, `eval`, `train`, `run` and `data info` broken inputs: missing, unreadable,
# empty, truncated and hostile safetensors files; wrong arch, class count and class lists;
# unknown methods, cuts and datasets; bad --set values; missing data roots; corrupt CIFAR, IDX,
# PNG and JPEG files; recipe / experiment YAML with unknown keys, wrong types and path keys;
# outputs in a missing or read-only directory, or on top of an input. For EVERY case it checks:
#   1. the exit status is exactly 2 (bad input), not 0, 1 or a crash;
#   2. stderr is ONE line, starting with "error: " and naming the problem (a case keyword);
#   3. nothing is left in the case's scratch directory (the command's working directory, where
#      its outputs go): no output, no temporary file, no directory;
#   4. every input file is bit-unchanged (sha256sum of the whole fixture tree before and after).
# The fixtures are built at test time in a mktemp directory: a tiny MNIST (IDX) and CIFAR-10
# (binary) set, image folders (PNG written with Python's zlib), and two small models trained
# by this very binary (`oblivio train`, 1 epoch); the hostile safetensors variants are crafted
# from the trained model with Python (standard library only).
#
# Running as root: root reads a chmod 000 file and writes into a chmod 555 directory, so those
# two kinds of case are skipped (and said so); the "directory" that is a regular FILE fails for
# everyone and always runs.
# Exit status: 0 every case passed, 1 some case failed, 77 skipped (no python3 / sha256sum).
set -uo pipefail

if [ $# -ne 1 ]; then
    echo "usage: bash tests/cli/bad_input.sh /path/to/oblivio" >&2
    exit 1
fi
BIN=$(realpath "$1")
[ -x "$BIN" ] || { echo "FAIL: $1 is not an executable" >&2; exit 1; }
for tool in python3 sha256sum; do
    command -v "$tool" > /dev/null || { echo "skipped: $tool not found"; exit 77; }
done
TIMEOUT=()
command -v timeout > /dev/null && TIMEOUT=(timeout 120)
# One thread: the cases are tiny, and ctest runs other tests beside this one.
export OMP_NUM_THREADS=1 OMP_WAIT_POLICY=PASSIVE

WORK=$(mktemp -d "${TMPDIR:-/tmp}/obl_bad_input.XXXXXX")
trap 'chmod -R u+rwX "$WORK" 2> /dev/null; rm -rf "$WORK"' EXIT
F=$WORK/fix      # every input file of every case
mkdir -p "$F" "$WORK/out" "$WORK/log" "$WORK/build"
AS_ROOT=0
[ "$(id -u)" = 0 ] && AS_ROOT=1

# ---- fixtures -------------------------------------------------------------------------------
python3 - "$F" << 'EOF' || { echo "FAIL: could not write the fixtures"; exit 1; }
import os, struct, sys, zlib
F = sys.argv[1]

def idx(path, dims, data):  # IDX: 0x00 0x00 0x08 <ndims>, big-endian sizes, u8 data
    with open(path, "wb") as f:
        f.write(bytes([0, 0, 8, len(dims)]) + b"".join(struct.pack(">I", d) for d in dims) + data)

def png(path, w, h, seed):  # 8-bit RGB PNG
    rows = b"".join(b"\0" + bytes((x * 7 + y * 13 + seed * 31 + c * 50) % 256
                                  for x in range(w) for c in range(3)) for y in range(h))
    def chunk(t, d):
        return struct.pack(">I", len(d)) + t + d + struct.pack(">I", zlib.crc32(t + d))
    with open(path, "wb") as f:
        f.write(b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", struct.pack(">IIBBBBB", w, h, 8, 2, 0, 0, 0))
                + chunk(b"IDAT", zlib.compress(rows)) + chunk(b"IEND", b""))

# MNIST: 20 train / 20 test images of 28x28, labels 0..9 twice.
for d in ("mnist", "mnist_badmagic", "mnist_badtrain", "mnist_truncated"):
    os.makedirs(f"{F}/{d}")
    for split in ("train", "t10k"):
        pix = bytes((i * 37 + p * 11) % 256 if p % 28 < (i % 10) * 3 else 0
                    for i in range(20) for p in range(784))
        idx(f"{F}/{d}/{split}-images-idx3-ubyte", [20, 28, 28], pix)
        idx(f"{F}/{d}/{split}-labels-idx1-ubyte", [20], bytes(i % 10 for i in range(20)))
with open(f"{F}/mnist_badmagic/t10k-images-idx3-ubyte", "r+b") as f:
    f.write(b"\x12\x34\x08\x03")
with open(f"{F}/mnist_badtrain/train-labels-idx1-ubyte", "r+b") as f:
    f.write(b"\x00\x00\x0d\x01")  # element type 0x0d (float): not supported
with open(f"{F}/mnist_truncated/t10k-images-idx3-ubyte", "r+b") as f:
    f.truncate(5000)

# CIFAR-10: one record per training batch, two test records (label byte + 3072 pixels).
def record(label, seed):
    return bytes([label]) + bytes((i * 3 + seed) % 256 for i in range(3072))
for d in ("cifar10", "cifar10_truncated", "cifar10_badlabel"):
    os.makedirs(f"{F}/{d}")
    for b in range(1, 6):
        open(f"{F}/{d}/data_batch_{b}.bin", "wb").write(record(b % 10, b))
    open(f"{F}/{d}/test_batch.bin", "wb").write(record(1, 7) + record(2, 8))
    open(f"{F}/{d}/batches.meta.txt", "w").write("\n".join("abcdefghij") + "\n")
for name in ("data_batch_3.bin", "test_batch.bin"):
    os.truncate(f"{F}/cifar10_truncated/{name}", 5000)
open(f"{F}/cifar10_badlabel/test_batch.bin", "wb").write(record(1, 7) + record(10, 8))

# Image folders: folder2 (2 classes of 28x28), folder10 (10 classes of 32x32, test split), and
# copies with one corrupt file that is not the first (the first one is probed for the size).
for split in ("train", "test"):
    for k, cls in enumerate(("cat", "dog")):
        for d in ("folder2", "folder_badpng", "folder_badjpg"):
            os.makedirs(f"{F}/{d}/{split}/{cls}", exist_ok=True)
            for i in range(2):
                png(f"{F}/{d}/{split}/{cls}/img{i}.png", 28, 28, 2 * k + i)
open(f"{F}/folder_badpng/train/dog/img1.png", "r+b").truncate(60)
open(f"{F}/folder_badjpg/train/dog/img2.jpg", "wb").write(
    b"\xff\xd8\xff\xe0\x00\x10JFIF\x00" + b"not really a JPEG" * 4)
for k in range(10):
    os.makedirs(f"{F}/folder10/test/c{k}")
    png(f"{F}/folder10/test/c{k}/a.png", 32, 32, k)
open(f"{F}/folder10/test/c5/b.png", "wb").write(open(f"{F}/folder10/test/c5/a.png", "rb").read()[:70])
os.makedirs(f"{F}/folder_empty/train")

# Recipes for the fixture models (tiny: 1 epoch, no augmentation, no loader threads).
open(f"{F}/tiny_mnist.yaml", "w").write(
    "arch: fmnist_cnn\ndataset: mnist\nepochs: 1\nbatch_size: 20\naugment: false\nworkers: 0\n")
open(f"{F}/tiny_cifar.yaml", "w").write(
    "arch: cifar_resnet20\ndataset: cifar10\nepochs: 1\nbatch_size: 5\naugment: false\nworkers: 0\n")
EOF

(cd "$WORK/build" &&
    "$BIN" train --recipe "$F/tiny_mnist.yaml" --root "$F/mnist" --out "$F/model.safetensors" &&
    "$BIN" train --recipe "$F/tiny_cifar.yaml" --root "$F/cifar10" --out "$F/rc20.safetensors") \
    > "$WORK/log/fixture_models.txt" 2>&1 ||
    { cat "$WORK/log/fixture_models.txt"; echo "FAIL: oblivio train could not make the fixture models"; exit 1; }

# Hostile variants of the trained model (each a single defect) in $F/hostile/.
mkdir -p "$F/hostile"
python3 - "$F/model.safetensors" "$F/hostile" << 'EOF' || { echo "FAIL: could not craft the hostile files"; exit 1; }
import json, struct, sys
src, out = sys.argv[1], sys.argv[2]
raw = open(src, "rb").read()
n = struct.unpack("<Q", raw[:8])[0]
header, data = json.loads(raw[8:8 + n]), raw[8 + n:]
names = sorted((k for k in header if k != "__metadata__"), key=lambda k: header[k]["data_offsets"][0])
first, second, last = names[0], names[1], names[-1]
assert header[first]["dtype"] == "F32", first

def write(name, hdr=None, text=None, length=None):
    h = text if text is not None else json.dumps(hdr).encode()
    h += b" " * (-len(h) % 8)
    size = 8 + len(h) + len(data)
    with open(f"{out}/{name}.safetensors", "wb") as f:
        f.write(struct.pack("<Q", len(h) if length is None else length(size)) + h + data)

def edited(fn):
    h = json.loads(json.dumps(header))
    fn(h)
    return h

def out_of_range(h):  # the last tensor moved to start at the end of the data section
    b, e = h[last]["data_offsets"]
    h[last]["data_offsets"] = [len(data), len(data) + e - b]

def overlap(h):  # the second tensor aliases the bytes of the first
    h[second].update(dtype=h[first]["dtype"], shape=h[first]["shape"],
                     data_offsets=h[first]["data_offsets"])

write("huge_header", header, length=lambda size: 1 << 40)
write("header_past_eof", header, length=lambda size: size)
write("header_not_json", text=b"this is not JSON {")
write("header_deeply_nested", text=b'{"a":' * 100000 + b"1" + b"}" * 100000)
write("header_duplicate_key", text=b'{"x":{"dtype":"U8","shape":[0],"data_offsets":[0,0]},'
                                   b'"x":{"dtype":"U8","shape":[0],"data_offsets":[0,0]}}')
write("offsets_out_of_range", edited(out_of_range))
write("overlapping", edited(overlap))
# Same byte size, but a float parameter declared as int32: must not be reinterpreted/converted.
write("dtype_mismatch", edited(lambda h: h[first].update(dtype="I32")))
write("dtype_unsupported", edited(lambda h: h[first].update(dtype="F8_E4M3")))
write("shape_bytes_mismatch", edited(lambda h: h[first].update(shape=[h[first]["shape"][0] + 1])))
write("num_classes_metadata", edited(lambda h: h["__metadata__"].update(num_classes="12")))
EOF

M=$F/model.safetensors
: > "$F/empty.safetensors"
head -c 200000 "$M" > "$F/truncated.safetensors"
cp "$M" "$F/unreadable.safetensors" && chmod 000 "$F/unreadable.safetensors"
cp "$M" "$F/out_is_input.safetensors"
cp "$F/tiny_mnist.yaml" "$F/recipe_is_output.yaml"
echo "this is a regular file" > "$F/a_file"
mkdir -p "$F/readonly_dir" && chmod 555 "$F/readonly_dir"
printf 'arch: fmnist_cnn\ndataset: mnist\nepochs: 1\nbogus_key: 3\n' > "$F/r_unknown_key.yaml"
printf 'arch: fmnist_cnn\ndataset: mnist\nepochs: many\n' > "$F/r_wrong_type.yaml"
printf 'arch: fmnist_cnn\ndataset: mnist\nepochs: 1\nroot: /etc\n' > "$F/r_path_key.yaml"
printf 'arch: [fmnist_cnn\n' > "$F/r_not_yaml.yaml"
python3 -c "print('arch: ' + '[' * 100000)" > "$F/r_deeply_nested.yaml"

# Experiment files: a valid base, then one defect per file (models come from --models $F).
cat > "$F/exp.yaml" << 'EOF'
name: tiny
arch: fmnist_cnn
dataset: mnist
original: {weights: model.safetensors}
cuts: [pre_logits]
classes: [[3]]
methods: [neg_grad_plus]
samples_per_class: 20
metrics: [accuracy]
EOF
experiment() {  # experiment NAME SED-EXPRESSION: $F/e_NAME.yaml = exp.yaml edited
    sed "$2" "$F/exp.yaml" > "$F/e_$1.yaml"
    cmp -s "$F/exp.yaml" "$F/e_$1.yaml" && { echo "FAIL: fixture e_$1.yaml: sed changed nothing"; exit 1; }
}
experiment unknown_key 's/^metrics:.*/&\nbogus: 1/'
experiment wrong_type 's/^samples_per_class:.*/samples_per_class: lots/'
experiment root_key 's/^metrics:.*/&\nroot: \/etc/'
experiment abs_weights 's/weights: model.safetensors/weights: \/etc\/passwd/'
experiment dotdot_weights 's/weights: model.safetensors/weights: ..\/fix\/model.safetensors/'
experiment hostile_weights 's/weights: model.safetensors/weights: overlapping.safetensors/'
experiment unknown_method 's/\[neg_grad_plus\]/[nope]/'
experiment class_out_of_range 's/\[\[3\]\]/[[10]]/'
experiment class_duplicated 's/\[\[3\]\]/[[3, 3]]/'
experiment all_classes 's/\[\[3\]\]/[[0, 1, 2, 3, 4, 5, 6, 7, 8, 9]]/'
experiment unknown_dataset 's/^dataset: mnist/dataset: nope/'
experiment unknown_cut 's/\[pre_logits\]/[nope]/'
experiment nan_sigma 's/^metrics:.*/&\nsigma: .nan/'
experiment negative_epochs 's/\[neg_grad_plus\]/[{method: neg_grad_plus, set: {epochs: -1}}]/'
experiment not_yaml 's/^cuts: \[pre_logits\]/cuts: [pre_logits/'

# ---- the matrix -----------------------------------------------------------------------------
# Snapshot of the inputs: every path with its type and mode, and the sha256 of every readable
# file (the chmod 000 one is listed by mode only when not running as root).
snapshot() {
    (cd "$1" && find . -printf '%y %m %p\n' | LC_ALL=C sort &&
        find . -type f -readable -print0 | LC_ALL=C sort -z | xargs -0 -r sha256sum)
}
INPUTS=$(snapshot "$F")
cases=0 passed=0 skipped=0
declare -a skipped_names=()

skip() {  # skip NAME WHY
    skipped=$((skipped + 1))
    skipped_names+=("$1")
    echo "skip $1: $2"
}

# expect [--prep CMD] NAME KEYWORD ARGS...: runs `oblivio ARGS...` in an empty scratch directory
# (CMD, if any, runs there first: files it makes must be left exactly as they were).
expect() {
    local prep=""
    if [ "$1" = "--prep" ]; then prep=$2; shift 2; fi
    local name=$1 keyword=$2
    shift 2
    local dir=$WORK/out/$name err=$WORK/log/$name.err
    mkdir -p "$dir"
    [ -n "$prep" ] && (cd "$dir" && eval "$prep")
    local before rc why=""
    before=$(snapshot "$dir")
    (cd "$dir" && "${TIMEOUT[@]}" "$BIN" "$@") > "$WORK/log/$name.out" 2> "$err"
    rc=$?
    cases=$((cases + 1))
    local lines
    lines=$(awk 'END { print NR }' "$err")  # also counts a last line without its newline
    if [ "$rc" -ne 2 ]; then
        why="exit status $rc, expected 2"
    elif [ "$lines" -ne 1 ] || grep -q $'\r' "$err"; then
        why="stderr is $lines lines (or holds a carriage return), expected one line"
    elif ! head -c 7 "$err" | grep -q '^error: '; then
        why="stderr does not start with 'error: '"
    elif ! grep -Eiq -- "$keyword" "$err"; then
        why="the message does not match /$keyword/"
    elif [ "$(snapshot "$dir")" != "$before" ]; then
        why="the scratch directory changed: $(cd "$dir" && find . -mindepth 1 | head -3 | tr '\n' ' ')"
    elif [ "$(snapshot "$F")" != "$INPUTS" ]; then
        why="an input file changed (or a file appeared among the inputs)"
    fi
    if [ -z "$why" ]; then
        passed=$((passed + 1))
        echo "ok   $name"
    else
        echo "FAIL $name: $why"
        echo "     oblivio $*"
        sed 's/^/     stderr: /' "$err" | head -5
        INPUTS=$(snapshot "$F")  # later cases compare against the inputs as they are now
    fi
}

summary() {
    echo "bad-input matrix: $cases cases, $passed passed"
    [ "$skipped" -gt 0 ] && echo "($skipped skipped: ${skipped_names[*]})"
}

H=$F/hostile
FORGET=(forget --arch fmnist_cnn --method neg_grad_plus --samples-per-class 20)

# forget: the model file
expect forget_model_missing "no such file" "${FORGET[@]}" --model "$F/none.safetensors" --classes 3 --out o.safetensors
if [ "$AS_ROOT" = 1 ]; then
    skip forget_model_unreadable "running as root, which reads a chmod 000 file"
else
    expect forget_model_unreadable "permission denied" "${FORGET[@]}" --model "$F/unreadable.safetensors" --classes 3 --out o.safetensors
fi
expect forget_model_empty "empty file" "${FORGET[@]}" --model "$F/empty.safetensors" --classes 3 --out o.safetensors
expect forget_model_truncated "truncated" "${FORGET[@]}" --model "$F/truncated.safetensors" --classes 3 --out o.safetensors
expect forget_model_is_directory "not a regular file" "${FORGET[@]}" --model "$F" --classes 3 --out o.safetensors
expect forget_header_length_huge "header length .* exceeds" "${FORGET[@]}" --model "$H/huge_header.safetensors" --classes 3 --out o.safetensors
expect forget_header_past_eof "past the end of the file" "${FORGET[@]}" --model "$H/header_past_eof.safetensors" --classes 3 --out o.safetensors
expect forget_header_not_json "invalid JSON" "${FORGET[@]}" --model "$H/header_not_json.safetensors" --classes 3 --out o.safetensors
expect forget_header_deeply_nested "nesting deeper than" "${FORGET[@]}" --model "$H/header_deeply_nested.safetensors" --classes 3 --out o.safetensors
expect forget_header_duplicate_key "duplicate key" "${FORGET[@]}" --model "$H/header_duplicate_key.safetensors" --classes 3 --out o.safetensors
expect forget_offsets_out_of_range "run past the data section" "${FORGET[@]}" --model "$H/offsets_out_of_range.safetensors" --classes 3 --out o.safetensors
expect forget_tensors_overlap "overlaps" "${FORGET[@]}" --model "$H/overlapping.safetensors" --classes 3 --out o.safetensors
expect forget_dtype_mismatch "dtype" "${FORGET[@]}" --model "$H/dtype_mismatch.safetensors" --classes 3 --out o.safetensors
expect forget_dtype_unsupported "unsupported dtype" "${FORGET[@]}" --model "$H/dtype_unsupported.safetensors" --classes 3 --out o.safetensors
expect forget_shape_bytes_mismatch "needs 132 bytes but data_offsets span 128" "${FORGET[@]}" --model "$H/shape_bytes_mismatch.safetensors" --classes 3 --out o.safetensors
expect forget_wrong_arch "weights are for arch 'fmnist_cnn'" forget --arch cifar_resnet20 --method neg_grad_plus --model "$M" --classes 3 --out o.safetensors
expect forget_num_classes_metadata "shape mismatch" "${FORGET[@]}" --model "$H/num_classes_metadata.safetensors" --classes 3 --out o.safetensors
# forget: the request
expect forget_class_out_of_range "class 10 is out of range" "${FORGET[@]}" --model "$M" --classes 10 --out o.safetensors
expect forget_class_duplicated "listed twice" "${FORGET[@]}" --model "$M" --classes 3,3 --out o.safetensors
expect forget_all_classes "all 10 classes" "${FORGET[@]}" --model "$M" --classes 0,1,2,3,4,5,6,7,8,9 --out o.safetensors
expect forget_class_negative "not a class index" "${FORGET[@]}" --model "$M" --classes -1 --out o.safetensors
expect forget_unknown_method "unknown unlearning method 'nope'" forget --arch fmnist_cnn --method nope --model "$M" --classes 3 --out o.safetensors
expect forget_unknown_cut "unknown split point 'nope'" "${FORGET[@]}" --cut nope --model "$M" --classes 3 --out o.safetensors
expect forget_unknown_dist "distribution 'cauchy'" "${FORGET[@]}" --dist cauchy --model "$M" --classes 3 --out o.safetensors
expect forget_set_nan "bad value 'nan' for 'lr'" "${FORGET[@]}" --set lr=nan --model "$M" --classes 3 --out o.safetensors
expect forget_set_negative_epochs "bad value '-1' for 'epochs'" "${FORGET[@]}" --set epochs=-1 --model "$M" --classes 3 --out o.safetensors
expect forget_set_unknown_key "no setting 'bogus'" "${FORGET[@]}" --set bogus=1 --model "$M" --classes 3 --out o.safetensors
expect forget_zero_samples "samples-per-class" "${FORGET[@]}" --samples-per-class 0 --model "$M" --classes 3 --out o.safetensors
expect forget_zero_selection_quota "'per_class'" "${FORGET[@]}" --set select.per_class=0 --model "$M" --classes 3 --out o.safetensors
expect forget_eval_unknown_dataset "unknown dataset 'nope'" "${FORGET[@]}" --eval-dataset nope --model "$M" --classes 3 --out o.safetensors
expect forget_eval_missing_root "not a directory" "${FORGET[@]}" --eval-dataset mnist --eval-root "$F/none" --model "$M" --classes 3 --out o.safetensors
# forget: the output
expect forget_out_missing_dir "does not exist" "${FORGET[@]}" --model "$M" --classes 3 --out missing/o.safetensors
expect forget_out_under_file "not a directory" "${FORGET[@]}" --model "$M" --classes 3 --out "$F/a_file/o.safetensors"
if [ "$AS_ROOT" = 1 ]; then
    skip forget_out_readonly_dir "running as root, which writes into a chmod 555 directory"
else
    expect forget_out_readonly_dir "permission denied" "${FORGET[@]}" --force --model "$M" --classes 3 --out "$F/readonly_dir/o.safetensors"
fi
expect forget_out_is_directory "is a directory" "${FORGET[@]}" --model "$M" --classes 3 --out "$F/readonly_dir"
expect forget_out_equals_input "must not be the input" "${FORGET[@]}" --model "$F/out_is_input.safetensors" --classes 3 --out "$F/out_is_input.safetensors"
expect forget_figures_missing_dir "--figures: directory" "${FORGET[@]}" --figures "$F/none" --model "$M" --classes 3 --out o.safetensors

# eval
EVAL=(eval --arch fmnist_cnn --model "$M")
expect eval_model_missing "no such file" eval --arch fmnist_cnn --model "$F/none.safetensors" --dataset mnist --root "$F/mnist"
expect eval_model_hostile "exceeds the 100 MB limit" eval --arch fmnist_cnn --model "$H/huge_header.safetensors" --dataset mnist --root "$F/mnist"
expect eval_wrong_arch "weights are for arch 'fmnist_cnn'" eval --arch cifar_resnet20 --model "$M" --dataset mnist --root "$F/mnist"
expect eval_num_classes_mismatch "has 10 classes but folder has 2" "${EVAL[@]}" --dataset folder --root "$F/folder2"
expect eval_unknown_dataset "unknown dataset 'nope'" "${EVAL[@]}" --dataset nope --root "$F/mnist"
expect eval_missing_data_root "not a directory" "${EVAL[@]}" --dataset mnist --root "$F/none"
expect eval_idx_bad_magic "bad magic number" "${EVAL[@]}" --dataset mnist --root "$F/mnist_badmagic"
expect eval_idx_truncated "is truncated" "${EVAL[@]}" --dataset mnist --root "$F/mnist_truncated"
expect eval_cifar_truncated "truncated or corrupt" eval --arch cifar_resnet20 --model "$F/rc20.safetensors" --dataset cifar10 --root "$F/cifar10_truncated"
expect eval_png_corrupt "cannot decode image .*b\.png" eval --arch cifar_resnet20 --model "$F/rc20.safetensors" --dataset folder --root "$F/folder10"
expect eval_batch_zero "--batch" "${EVAL[@]}" --dataset mnist --root "$F/mnist" --batch 0

# train
TRAIN=(train --recipe "$F/tiny_mnist.yaml" --root "$F/mnist")
expect train_recipe_missing "cannot read recipe" train --recipe "$F/none.yaml" --root "$F/mnist" --out m.safetensors
expect train_recipe_unknown_key "unknown key 'bogus_key'" train --recipe "$F/r_unknown_key.yaml" --root "$F/mnist" --out m.safetensors
expect train_recipe_wrong_type "bad value 'many' for 'epochs'" train --recipe "$F/r_wrong_type.yaml" --root "$F/mnist" --out m.safetensors
expect train_recipe_path_key "unknown key 'root'" train --recipe "$F/r_path_key.yaml" --root "$F/mnist" --out m.safetensors
expect train_recipe_not_yaml "not valid YAML" train --recipe "$F/r_not_yaml.yaml" --root "$F/mnist" --out m.safetensors
expect train_recipe_deeply_nested "not valid YAML" train --recipe "$F/r_deeply_nested.yaml" --root "$F/mnist" --out m.safetensors
expect train_set_nan "bad value 'nan' for 'lr'" "${TRAIN[@]}" --set lr=nan --out m.safetensors
expect train_set_negative_epochs "bad value '-2' for 'epochs'" "${TRAIN[@]}" --set epochs=-2 --out m.safetensors
expect train_set_zero_batch "bad value '0' for 'batch_size'" "${TRAIN[@]}" --set batch_size=0 --out m.safetensors
expect train_set_unknown_key "unknown key 'nope'" "${TRAIN[@]}" --set nope=1 --out m.safetensors
expect train_unknown_dataset "unknown dataset 'nope'" "${TRAIN[@]}" --set dataset=nope --out m.safetensors
expect train_unknown_arch "unknown model 'nope'" "${TRAIN[@]}" --set arch=nope --out m.safetensors
expect train_missing_data_root "not a directory" train --recipe "$F/tiny_mnist.yaml" --root "$F/none" --out m.safetensors
expect train_idx_bad_magic "bad magic number" train --recipe "$F/tiny_mnist.yaml" --root "$F/mnist_badmagic" --out m.safetensors
expect train_cifar_truncated "truncated or corrupt" train --recipe "$F/tiny_cifar.yaml" --root "$F/cifar10_truncated" --out m.safetensors
expect train_exclude_out_of_range "class 12 is outside" "${TRAIN[@]}" --exclude 12 --out m.safetensors
expect train_exclude_all_classes "no class to train" "${TRAIN[@]}" --exclude 0,1,2,3,4,5,6,7,8,9 --out m.safetensors
expect train_init_wrong_arch "does not match" train --recipe "$F/tiny_cifar.yaml" --root "$F/cifar10" --init "$M" --out m.safetensors
expect train_init_hostile "overlaps" "${TRAIN[@]}" --init "$H/overlapping.safetensors" --out m.safetensors
expect train_out_missing_dir "does not exist" "${TRAIN[@]}" --out missing/m.safetensors
expect train_out_under_file "not a directory" "${TRAIN[@]}" --out "$F/a_file/m.safetensors"
if [ "$AS_ROOT" = 1 ]; then
    skip train_out_readonly_dir "running as root, which writes into a chmod 555 directory"
else
    expect train_out_readonly_dir "permission denied" "${TRAIN[@]}" --out "$F/readonly_dir/m.safetensors"
fi
expect train_out_equals_init "would overwrite the input" "${TRAIN[@]}" --init "$F/out_is_input.safetensors" --out "$F/out_is_input.safetensors"
expect train_out_equals_recipe "would overwrite the input" train --recipe "$F/recipe_is_output.yaml" --root "$F/mnist" --out "$F/recipe_is_output.yaml"
expect --prep "echo garbage > m.safetensors.ckpt" train_checkpoint_corrupt "m.safetensors.ckpt" "${TRAIN[@]}" --out m.safetensors

# run
RUN=(--models "$F" --root "$F/mnist" --out runs)
expect run_yaml_missing "cannot read experiment file" run "$F/none.yaml" "${RUN[@]}"
expect run_yaml_unknown_key "unknown key 'bogus'" run "$F/e_unknown_key.yaml" "${RUN[@]}"
expect run_yaml_wrong_type "'samples_per_class' must be an integer" run "$F/e_wrong_type.yaml" "${RUN[@]}"
expect run_yaml_not_yaml "not valid YAML" run "$F/e_not_yaml.yaml" "${RUN[@]}"
expect run_yaml_path_key "paths never go in an experiment file" run "$F/e_root_key.yaml" "${RUN[@]}"
expect run_yaml_absolute_path "must be a bare file name" run "$F/e_abs_weights.yaml" "${RUN[@]}"
expect run_yaml_dotdot_path "must be a bare file name" run "$F/e_dotdot_weights.yaml" "${RUN[@]}"
expect run_yaml_unknown_method "unknown unlearning method 'nope'" run "$F/e_unknown_method.yaml" "${RUN[@]}"
expect run_yaml_unknown_dataset "unknown dataset 'nope'" run "$F/e_unknown_dataset.yaml" "${RUN[@]}"
expect run_yaml_unknown_cut "unknown split point 'nope'" run "$F/e_unknown_cut.yaml" "${RUN[@]}"
expect run_yaml_class_out_of_range "class 10 outside" run "$F/e_class_out_of_range.yaml" "${RUN[@]}"
expect run_yaml_class_duplicated "lists 3 twice" run "$F/e_class_duplicated.yaml" "${RUN[@]}"
expect run_yaml_all_classes "would forget all 10 classes" run "$F/e_all_classes.yaml" "${RUN[@]}"
expect run_yaml_nan "'sigma' must be a number" run "$F/e_nan_sigma.yaml" "${RUN[@]}"
expect run_yaml_negative_epochs "bad value '-1' for 'epochs'" run "$F/e_negative_epochs.yaml" "${RUN[@]}"
expect run_only_unknown_key "--only: unknown key 'bogus'" run "$F/exp.yaml" "${RUN[@]}" --only bogus=1
expect run_weights_hostile "overlaps" run "$F/e_hostile_weights.yaml" --models "$H" --root "$F/mnist" --out runs
expect run_models_dir_missing "not found" run "$F/exp.yaml" --models "$F/none" --root "$F/mnist" --out runs
expect run_missing_data_root "not a directory" run "$F/exp.yaml" --models "$F" --root "$F/none" --out runs
# (a bad TRAIN split: the runner embeds and caches the train split before it opens the test split,
# and a cached train embedding is a valid, reusable cache entry, so that case is not "bad input")
expect run_idx_bad_type "element type 0xd is not supported" run "$F/exp.yaml" --models "$F" --root "$F/mnist_badtrain" --out runs
expect run_out_under_file "not a directory" run "$F/exp.yaml" --models "$F" --root "$F/mnist" --out "$F/a_file/runs"

# data info
expect data_unknown_dataset "unknown dataset 'nope'" data info --dataset nope --root "$F/mnist"
expect data_missing_root "not a directory" data info --dataset mnist --root "$F/none"
expect data_no_default_root "no default root" data info --dataset mnist
expect data_cifar_truncated "truncated or corrupt" data info --dataset cifar10 --root "$F/cifar10_truncated"
expect data_cifar_bad_label "label 10 outside" data info --dataset cifar10 --root "$F/cifar10_badlabel"
expect data_idx_bad_magic "bad magic number" data info --dataset mnist --root "$F/mnist_badmagic"
expect data_idx_truncated "is truncated" data info --dataset mnist --root "$F/mnist_truncated"
expect data_png_corrupt "cannot decode image .*img1\.png" data info --dataset folder --root "$F/folder_badpng"
expect data_jpeg_corrupt "cannot decode image .*img2\.jpg" data info --dataset folder --root "$F/folder_badjpg"
expect data_folder_no_classes "no class subdirectories" data info --dataset folder --root "$F/folder_empty"
expect data_size_zero "--size" data info --dataset folder --root "$F/folder2" --size 0

summary
[ "$passed" -eq "$cases" ] && exit 0
exit 1
