// Safetensors reader (validating, memory-mapped) and atomic writer.
#include "nn/io/safetensors.h"

#include <fcntl.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstdio>
#include <cstring>
#include <limits>

#include "nn/io/atomic_file.h"
#include "nn/io/json.h"

namespace obl {

namespace {

constexpr uint64_t kMaxHeaderBytes = 100ull << 20;  // 100 MB, as the format's reference impl.

struct DtypeInfo {
    const char* name;
    size_t file_size;  // bytes per element in the file
    DType loads_as;
};

const DtypeInfo kDtypes[] = {
    {"F32", 4, DType::F32}, {"F64", 8, DType::F64}, {"I32", 4, DType::I32},
    {"I64", 8, DType::I64}, {"U8", 1, DType::U8},   {"F16", 2, DType::F32},
    {"BF16", 2, DType::F32},
};

const DtypeInfo* find_dtype(const std::string& name) {
    for (const auto& d : kDtypes)
        if (name == d.name) return &d;
    return nullptr;
}

const char* file_dtype_name(DType t) {
    switch (t) {
        case DType::F32: return "F32";
        case DType::F64: return "F64";
        case DType::I32: return "I32";
        case DType::I64: return "I64";
        case DType::U8: return "U8";
    }
    return "?";
}

float half_to_float(uint16_t h) {
    const uint32_t sign = (h & 0x8000u) << 16;
    uint32_t exp = (h >> 10) & 0x1F, mant = h & 0x3FFu, bits;
    if (exp == 0) {
        if (mant == 0) {
            bits = sign;
        } else {  // subnormal: renormalise
            exp = 127 - 15 + 1;
            while (!(mant & 0x400u)) {
                mant <<= 1;
                --exp;
            }
            bits = sign | (exp << 23) | ((mant & 0x3FFu) << 13);
        }
    } else if (exp == 31) {
        bits = sign | 0x7F800000u | (mant << 13);  // inf / nan
    } else {
        bits = sign | ((exp - 15 + 127) << 23) | (mant << 13);
    }
    float f;
    std::memcpy(&f, &bits, 4);
    return f;
}

float bf16_to_float(uint16_t b) {
    const uint32_t bits = static_cast<uint32_t>(b) << 16;
    float f;
    std::memcpy(&f, &bits, 4);
    return f;
}

uint64_t read_le64(const unsigned char* p) {
    uint64_t v = 0;
    for (int i = 7; i >= 0; --i) v = (v << 8) | p[i];
    return v;
}

struct Entry {
    std::string name;
    const DtypeInfo* dtype;
    Shape shape;
    uint64_t begin, end;
};

// RAII read-only mapping of a whole file.
class MappedFile {
   public:
    explicit MappedFile(const std::string& path) {
        fd_ = ::open(path.c_str(), O_RDONLY | O_CLOEXEC);
        OBL_CHECK(fd_ >= 0, path, ": cannot open: ", std::strerror(errno));
        struct stat st {};
        if (::fstat(fd_, &st) != 0 || !S_ISREG(st.st_mode)) {
            ::close(fd_);
            OBL_THROW(path, ": not a regular file");
        }
        size_ = static_cast<size_t>(st.st_size);
        if (size_ > 0) {
            void* p = ::mmap(nullptr, size_, PROT_READ, MAP_PRIVATE, fd_, 0);
            if (p == MAP_FAILED) {
                ::close(fd_);
                OBL_THROW(path, ": mmap failed: ", std::strerror(errno));
            }
            data_ = static_cast<const unsigned char*>(p);
        }
    }
    ~MappedFile() {
        if (data_) ::munmap(const_cast<unsigned char*>(data_), size_);
        if (fd_ >= 0) ::close(fd_);
    }
    MappedFile(const MappedFile&) = delete;
    MappedFile& operator=(const MappedFile&) = delete;
    const unsigned char* data() const { return data_; }
    size_t size() const { return size_; }

   private:
    int fd_ = -1;
    const unsigned char* data_ = nullptr;
    size_t size_ = 0;
};

Entry parse_entry(const std::string& name, const json::Value& v, const std::string& what) {
    const std::string where = what + ": tensor \"" + name + "\"";
    OBL_CHECK(v.kind == json::Value::Kind::Object, where, ": entry is not a JSON object");
    for (const auto& f : v.fields)
        OBL_CHECK(f.first == "dtype" || f.first == "shape" || f.first == "data_offsets", where,
                  ": unknown field \"", f.first, "\"");
    const json::Value* dt = v.find("dtype");
    const json::Value* sh = v.find("shape");
    const json::Value* off = v.find("data_offsets");
    OBL_CHECK(dt && sh && off, where, ": needs dtype, shape and data_offsets");
    OBL_CHECK(dt->kind == json::Value::Kind::String, where, ": dtype must be a string");
    Entry e;
    e.name = name;
    e.dtype = find_dtype(dt->text);
    OBL_CHECK(e.dtype, where, ": unsupported dtype \"", dt->text,
              "\" (supported: F32 F64 F16 BF16 I32 I64 U8)");
    OBL_CHECK(sh->kind == json::Value::Kind::Array, where, ": shape must be an array");
    OBL_CHECK(sh->items.size() <= static_cast<size_t>(Shape::kMaxDims), where, ": ",
              sh->items.size(), " dims (at most ", Shape::kMaxDims, ")");
    // Element count with overflow checks: the byte size must fit in the file anyway.
    uint64_t numel = 1;
    const uint64_t limit = std::numeric_limits<uint64_t>::max() / 16;
    for (const auto& d : sh->items) {
        const int64_t n = d.as_int64(where + " shape");
        OBL_CHECK(n >= 0, where, ": negative dimension ", n);
        OBL_CHECK(n == 0 || numel <= limit / static_cast<uint64_t>(n), where,
                  ": shape is too large (element count overflows)");
        numel *= static_cast<uint64_t>(n);
        e.shape.push_back(n);
    }
    OBL_CHECK(off->kind == json::Value::Kind::Array && off->items.size() == 2, where,
              ": data_offsets must be [begin, end]");
    const int64_t b = off->items[0].as_int64(where + " data_offsets");
    const int64_t en = off->items[1].as_int64(where + " data_offsets");
    OBL_CHECK(b >= 0 && en >= b, where, ": invalid data_offsets [", b, ", ", en, "]");
    e.begin = static_cast<uint64_t>(b);
    e.end = static_cast<uint64_t>(en);
    const uint64_t nbytes = numel * e.dtype->file_size;
    OBL_CHECK(e.end - e.begin == nbytes, where, ": shape ", e.shape, " of ", dt->text, " needs ",
              nbytes, " bytes but data_offsets span ", e.end - e.begin);
    return e;
}

Tensor load_entry(const Entry& e, const unsigned char* base) {
    Tensor t = Tensor::empty(e.shape, e.dtype->loads_as);
    const unsigned char* src = base + e.begin;
    const int64_t n = e.shape.numel();
    const std::string dt = e.dtype->name;
    if (dt == "F16" || dt == "BF16") {
        float* out = t.f32();
        for (int64_t i = 0; i < n; ++i) {
            const uint16_t h = static_cast<uint16_t>(src[2 * i] | (src[2 * i + 1] << 8));
            out[i] = dt == "F16" ? half_to_float(h) : bf16_to_float(h);
        }
    } else if (n > 0) {
        std::memcpy(t.raw(), src, e.end - e.begin);  // little-endian host (x86-64, aarch64)
    }
    return t;
}

}  // namespace

SafetensorsFile parse_safetensors(const unsigned char* data, size_t size, const std::string& what) {
    OBL_CHECK(size > 0, what, ": empty file (not a safetensors file)");
    OBL_CHECK(size >= 8, what, ": file is ", size, " bytes, shorter than the 8-byte header length");
    const uint64_t header_len = read_le64(data);
    OBL_CHECK(header_len <= kMaxHeaderBytes, what, ": header length ", header_len,
              " exceeds the 100 MB limit (corrupt file or not safetensors)");
    OBL_CHECK(header_len <= size - 8, what, ": header length ", header_len,
              " runs past the end of the file (", size, " bytes)");
    const json::Value header =
        json::parse(reinterpret_cast<const char*>(data + 8), header_len, what + " header");
    OBL_CHECK(header.kind == json::Value::Kind::Object, what, ": header is not a JSON object");

    SafetensorsFile out;
    std::vector<Entry> entries;
    for (const auto& [name, v] : header.fields) {
        if (name == "__metadata__") {
            OBL_CHECK(v.kind == json::Value::Kind::Object, what, ": __metadata__ must be an object");
            for (const auto& [k, mv] : v.fields) {
                OBL_CHECK(mv.kind == json::Value::Kind::String, what, ": __metadata__ value \"", k,
                          "\" is not a string");
                out.metadata[k] = mv.text;
            }
            continue;
        }
        entries.push_back(parse_entry(name, v, what));
    }

    // The tensors must tile the data section exactly: sorted by offset, no overlap, no gap.
    const uint64_t data_size = size - 8 - header_len;
    std::sort(entries.begin(), entries.end(), [](const Entry& a, const Entry& b) {
        return a.begin != b.begin ? a.begin < b.begin : a.end < b.end;
    });
    uint64_t cursor = 0;
    for (const Entry& e : entries) {
        OBL_CHECK(e.end <= data_size, what, ": tensor \"", e.name, "\" data_offsets [", e.begin,
                  ", ", e.end, ") run past the data section (", data_size,
                  " bytes; file truncated?)");
        OBL_CHECK(e.begin >= cursor, what, ": tensor \"", e.name, "\" overlaps the previous tensor");
        OBL_CHECK(e.begin == cursor, what, ": gap of ", e.begin - cursor,
                  " bytes before tensor \"", e.name, "\"");
        cursor = e.end;
    }
    OBL_CHECK(cursor == data_size, what, ": ", data_size - cursor,
              " bytes at the end of the data section belong to no tensor");

    const unsigned char* base = data + 8 + header_len;
    for (const Entry& e : entries) {
        out.tensors.emplace(e.name, load_entry(e, base));
        out.order.push_back(e.name);
    }
    return out;
}

SafetensorsFile read_safetensors(const std::string& path) {
    MappedFile f(path);
    return parse_safetensors(f.data(), f.size(), path);
}

std::vector<unsigned char> serialize_safetensors(const std::map<std::string, Tensor>& tensors,
                                                 const std::map<std::string, std::string>& metadata) {
    std::string header = "{";
    bool first = true;
    if (!metadata.empty()) {
        header += "\"__metadata__\":{";
        for (const auto& [k, v] : metadata) {
            header += (first ? "" : ",") + json::quote(k) + ":" + json::quote(v);
            first = false;
        }
        header += "}";
    }
    uint64_t offset = 0;
    for (const auto& [name, t] : tensors) {
        OBL_CHECK(name != "__metadata__", "safetensors: a tensor cannot be named __metadata__");
        OBL_CHECK(t.defined(), "safetensors: tensor \"", name, "\" is undefined");
        const uint64_t nbytes = t.nbytes();
        header += std::string(header.size() > 1 ? "," : "") + json::quote(name) + ":{\"dtype\":\"" +
                  file_dtype_name(t.dtype()) + "\",\"shape\":[";
        for (int d = 0; d < t.dim(); ++d) header += (d ? "," : "") + std::to_string(t.size(d));
        header += "],\"data_offsets\":[" + std::to_string(offset) + "," +
                  std::to_string(offset + nbytes) + "]}";
        offset += nbytes;
    }
    header += "}";
    header.append((8 - header.size() % 8) % 8, ' ');  // data section 8-byte aligned

    std::vector<unsigned char> out(8 + header.size() + offset);
    const uint64_t n = header.size();
    for (int i = 0; i < 8; ++i) out[i] = static_cast<unsigned char>(n >> (8 * i));
    std::memcpy(out.data() + 8, header.data(), header.size());
    unsigned char* p = out.data() + 8 + header.size();
    for (const auto& [name, t] : tensors) {
        Tensor host = t.device().is_cpu() ? t : t.cpu();
        if (host.nbytes() > 0) std::memcpy(p, host.raw(), host.nbytes());
        p += host.nbytes();
    }
    return out;
}

void write_safetensors(const std::string& path, const std::map<std::string, Tensor>& tensors,
                       const std::map<std::string, std::string>& metadata) {
    const std::vector<unsigned char> bytes = serialize_safetensors(tensors, metadata);
    write_file_atomic(path, bytes.data(), bytes.size());
}

}  // namespace obl
