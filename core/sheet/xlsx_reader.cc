// The .xlsx reader (kehu/xlsx.h): libzip for the package, expat for the parts.
//
// Every part is streamed through expat in 64 KiB chunks, so memory follows what
// is kept (cells, shared strings), never the size of the XML. Callbacks do not
// throw through expat (a C library): they store the exception, stop the parser,
// and the exception is rethrown once XML_Parse has returned.
#include <expat.h>
#include <zip.h>

#include <charconv>
#include <cmath>
#include <cstring>
#include <exception>
#include <fstream>
#include <map>
#include <memory>
#include <sstream>
#include <string>
#include <vector>

#include "kehu/error.h"
#include "kehu/lang.h"
#include "kehu/xlsx.h"

namespace kehu {
namespace {

constexpr char kNsSep = '\x01';  // expat's namespace separator: "uri\x01local"
constexpr std::size_t kMaxRows = 1048576;
constexpr std::size_t kMaxCols = 16384;

[[noreturn]] void fail(const std::string& file, const std::string& part, const std::string& what) {
  const std::string sep = tr(": ", "：");
  throw Error(Errc::validation, file + sep + (part.empty() ? "" : part + sep) + what);
}

std::string_view local_name(const char* name) {
  const char* sep = std::strrchr(name, kNsSep);
  return sep ? std::string_view(sep + 1) : std::string_view(name);
}

// The value of attribute `local` (any namespace unless `namespaced` requires one).
const char* attr(const char** atts, std::string_view local, bool namespaced = false) {
  for (std::size_t i = 0; atts[i]; i += 2) {
    bool has_ns = std::strchr(atts[i], kNsSep) != nullptr;
    if (local_name(atts[i]) == local && (!namespaced || has_ns)) return atts[i + 1];
  }
  return nullptr;
}

bool parse_uint(std::string_view s, std::size_t& out) {
  if (s.empty() || s.size() > 18) return false;
  auto [p, ec] = std::from_chars(s.data(), s.data() + s.size(), out);
  return ec == std::errc() && p == s.data() + s.size();
}

// One part's parse: subclasses see elements by local name and text.
class PartHandler {
 public:
  virtual ~PartHandler() = default;
  virtual void start(std::string_view name, const char** atts) = 0;
  virtual void end(std::string_view name) = 0;
  virtual void text(std::string_view) {}
};

struct ZipCloser {
  void operator()(zip_t* z) const { zip_discard(z); }
};
struct ZipFileCloser {
  void operator()(zip_file_t* f) const { zip_fclose(f); }
};
struct ParserFree {
  void operator()(XML_ParserStruct* p) const { XML_ParserFree(p); }
};

class Package {
 public:
  Package(std::string_view bytes, std::string name, const XlsxLimits& limits)
      : name_(std::move(name)), limits_(limits) {
    zip_error_t ze;
    zip_error_init(&ze);
    zip_source_t* src = zip_source_buffer_create(bytes.data(), bytes.size(), 0, &ze);
    if (!src)
      fail(name_, "", tr("cannot open the zip archive: ", "无法打开 zip 压缩包：") +
                           std::string(zip_error_strerror(&ze)));
    zip_t* z = zip_open_from_source(src, ZIP_RDONLY, &ze);
    if (!z) {
      zip_source_free(src);
      std::string why = zip_error_strerror(&ze);
      zip_error_fini(&ze);
      fail(name_, "", tr("not an xlsx file (not a readable zip archive: " + why + ")",
                         "不是 xlsx 文件（不是可读取的 zip 压缩包：" + why + "）"));
    }
    zip_error_fini(&ze);
    zip_.reset(z);
  }

  const std::string& name() const { return name_; }
  const XlsxLimits& limits() const { return limits_; }

  bool has(const std::string& part) const { return locate(part) >= 0; }

  // Streams `part` through `h`. Throws if it is missing, corrupt, bad XML, too deep
  // or pushes the bytes read past the limit.
  void parse(const std::string& part, PartHandler& h) {
    zip_int64_t idx = locate(part);
    if (idx < 0) fail(name_, part, tr("missing part (the file is not a complete xlsx workbook)",
                                         "缺少部件（文件不是完整的 xlsx 工作簿）"));
    std::unique_ptr<zip_file_t, ZipFileCloser> f(zip_fopen_index(zip_.get(), idx, 0));
    if (!f) fail(name_, part, tr("cannot open: ", "无法打开：") + zip_strerror(zip_.get()));
    std::unique_ptr<XML_ParserStruct, ParserFree> p(XML_ParserCreateNS(nullptr, kNsSep));
    if (!p) throw Error(Errc::internal, "out of memory creating an XML parser");
    State st{&h, p.get(), 0, limits_.max_xml_depth, nullptr, {}};
    XML_SetUserData(p.get(), &st);
    XML_SetElementHandler(p.get(), &State::on_start, &State::on_end);
    XML_SetCharacterDataHandler(p.get(), &State::on_text);
    XML_SetStartDoctypeDeclHandler(p.get(), &State::on_doctype);
    std::vector<char> buf(64 * 1024);
    for (;;) {
      zip_int64_t n = zip_fread(f.get(), buf.data(), buf.size());
      if (n < 0) fail(name_, part, tr("corrupt data: ", "数据已损坏：") + zip_file_strerror(f.get()));
      read_ += static_cast<std::uint64_t>(n);
      if (read_ > limits_.max_uncompressed_bytes) {
        fail(name_, part,
             tr("more than " + std::to_string(limits_.max_uncompressed_bytes >> 20) +
                    " MiB uncompressed (a zip bomb?)",
                "解压后超过 " + std::to_string(limits_.max_uncompressed_bytes >> 20) +
                    " MiB（是否为 zip 炸弹？）"));
      }
      bool last = n == 0;
      XML_Status s = XML_Parse(p.get(), buf.data(), static_cast<int>(n), last ? 1 : 0);
      if (st.error) std::rethrow_exception(st.error);
      if (!st.stop_reason.empty()) fail(name_, part, st.stop_reason);
      if (s != XML_STATUS_OK) {
        fail(name_, part,
             tr("bad XML at line " + std::to_string(XML_GetCurrentLineNumber(p.get())) + ": ",
                "XML 有误，第 " + std::to_string(XML_GetCurrentLineNumber(p.get())) + " 行：") +
                 XML_ErrorString(XML_GetErrorCode(p.get())));
      }
      if (last) break;
    }
  }

 private:
  struct State {
    PartHandler* h;
    XML_Parser parser;
    std::size_t depth;
    std::size_t max_depth;
    std::exception_ptr error;
    std::string stop_reason;

    void stop(std::string why) {
      if (stop_reason.empty()) stop_reason = std::move(why);
      XML_StopParser(parser, XML_FALSE);
    }
    static void on_start(void* ud, const XML_Char* name, const XML_Char** atts) {
      auto* s = static_cast<State*>(ud);
      if (s->error || !s->stop_reason.empty()) return;
      if (++s->depth > s->max_depth) {
        s->stop(tr("elements nested deeper than " + std::to_string(s->max_depth),
                    "元素嵌套超过 " + std::to_string(s->max_depth) + " 层"));
        return;
      }
      try {
        s->h->start(local_name(name), atts);
      } catch (...) {
        s->error = std::current_exception();
        XML_StopParser(s->parser, XML_FALSE);
      }
    }
    static void on_end(void* ud, const XML_Char* name) {
      auto* s = static_cast<State*>(ud);
      if (s->error || !s->stop_reason.empty()) return;
      --s->depth;
      try {
        s->h->end(local_name(name));
      } catch (...) {
        s->error = std::current_exception();
        XML_StopParser(s->parser, XML_FALSE);
      }
    }
    static void on_text(void* ud, const XML_Char* text, int len) {
      auto* s = static_cast<State*>(ud);
      if (s->error || !s->stop_reason.empty()) return;
      try {
        s->h->text(std::string_view(text, static_cast<std::size_t>(len)));
      } catch (...) {
        s->error = std::current_exception();
        XML_StopParser(s->parser, XML_FALSE);
      }
    }
    static void on_doctype(void* ud, const XML_Char*, const XML_Char*, const XML_Char*, int) {
      static_cast<State*>(ud)->stop(tr("a DOCTYPE is not allowed in an xlsx part", "xlsx 部件中不允许 DOCTYPE"));
    }
  };

  zip_int64_t locate(const std::string& part) const {
    zip_int64_t idx = zip_name_locate(zip_.get(), part.c_str(), 0);
    if (idx < 0) idx = zip_name_locate(zip_.get(), part.c_str(), ZIP_FL_NOCASE);
    return idx;
  }

  std::string name_;
  XlsxLimits limits_;
  std::unique_ptr<zip_t, ZipCloser> zip_;
  std::uint64_t read_ = 0;
};

// ---- xl/workbook.xml

struct SheetEntry {
  std::string name, rel_id;
};

class WorkbookHandler : public PartHandler {
 public:
  std::vector<SheetEntry> sheets;
  bool date1904 = false;
  void start(std::string_view name, const char** atts) override {
    if (name == "sheet") {
      const char* n = attr(atts, "name");
      const char* id = attr(atts, "id", true);
      sheets.push_back({n ? n : "", id ? id : ""});
      if (sheets.size() > 100000) throw Error(Errc::validation, tr("too many sheets", "工作表太多"));
    } else if (name == "workbookPr") {
      const char* d = attr(atts, "date1904");
      date1904 = d && (std::strcmp(d, "1") == 0 || std::strcmp(d, "true") == 0);
    }
  }
  void end(std::string_view) override {}
};

// ---- xl/_rels/workbook.xml.rels

struct Relationship {
  std::string target, type;
};

class RelsHandler : public PartHandler {
 public:
  std::map<std::string, Relationship> rels;
  void start(std::string_view name, const char** atts) override {
    if (name != "Relationship") return;
    const char* id = attr(atts, "Id");
    const char* target = attr(atts, "Target");
    const char* type = attr(atts, "Type");
    if (id && target) rels[id] = {target, type ? type : ""};
    if (rels.size() > 100000) throw Error(Errc::validation, tr("too many relationships", "关系太多"));
  }
  void end(std::string_view) override {}
};

// A relationship target relative to xl/ -> the zip entry name.
std::string resolve_target(const std::string& target) {
  std::vector<std::string> parts;
  std::string path = target.rfind('/', 0) == 0 ? target.substr(1) : "xl/" + target;
  std::stringstream ss(path);
  for (std::string seg; std::getline(ss, seg, '/');) {
    if (seg.empty() || seg == ".") continue;
    if (seg == "..") {
      if (!parts.empty()) parts.pop_back();
      continue;
    }
    parts.push_back(seg);
  }
  std::string out;
  for (const auto& p : parts) out += (out.empty() ? "" : "/") + p;
  return out;
}

// ---- xl/sharedStrings.xml and the text of inline strings: <t> inside <si>/<is>,
// directly or in rich-text runs <r>; phonetic guides <rPh> are not the text.

class TextCollector {
 public:
  std::string value;
  void start(std::string_view name) {
    if (name == "rPh") ++phonetic_;
    if (name == "t" && phonetic_ == 0) in_t_ = true;
  }
  void end(std::string_view name) {
    if (name == "rPh" && phonetic_ > 0) --phonetic_;
    if (name == "t") in_t_ = false;
  }
  void text(std::string_view s) {
    if (in_t_) value.append(s);
  }
  void reset() {
    value.clear();
    in_t_ = false;
    phonetic_ = 0;
  }

 private:
  bool in_t_ = false;
  int phonetic_ = 0;
};

class SharedStringsHandler : public PartHandler {
 public:
  explicit SharedStringsHandler(std::size_t max) : max_(max) {}
  std::vector<std::string> strings;
  void start(std::string_view name, const char**) override {
    if (name == "si") {
      in_si_ = true;
      text_.reset();
    } else if (in_si_) {
      text_.start(name);
    }
  }
  void end(std::string_view name) override {
    if (name == "si" && in_si_) {
      in_si_ = false;
      if (strings.size() >= max_) {
        throw Error(Errc::validation, tr("more than " + std::to_string(max_) + " shared strings",
                                          "共享字符串超过 " + std::to_string(max_) + " 个"));
      }
      strings.push_back(std::move(text_.value));
      text_.reset();
    } else if (in_si_) {
      text_.end(name);
    }
  }
  void text(std::string_view s) override {
    if (in_si_) text_.text(s);
  }

 private:
  std::size_t max_;
  bool in_si_ = false;
  TextCollector text_;
};

// ---- xl/styles.xml: which cellXfs entries show dates.

class StylesHandler : public PartHandler {
 public:
  std::map<int, std::string> custom;  // numFmtId -> formatCode
  std::vector<int> xf_fmt;            // cellXfs index -> numFmtId
  void start(std::string_view name, const char** atts) override {
    if (name == "numFmt") {
      const char* id = attr(atts, "numFmtId");
      const char* code = attr(atts, "formatCode");
      std::size_t n = 0;
      if (id && code && parse_uint(id, n) && n < 100000) custom[static_cast<int>(n)] = code;
    } else if (name == "cellXfs") {
      in_xfs_ = true;
    } else if (name == "xf" && in_xfs_) {
      const char* id = attr(atts, "numFmtId");
      std::size_t n = 0;
      xf_fmt.push_back(id && parse_uint(id, n) && n < 100000 ? static_cast<int>(n) : 0);
      if (xf_fmt.size() > 1000000) throw Error(Errc::validation, tr("too many cell styles", "单元格样式太多"));
    }
  }
  void end(std::string_view name) override {
    if (name == "cellXfs") in_xfs_ = false;
  }
  std::vector<bool> date_styles() const {
    std::vector<bool> out;
    out.reserve(xf_fmt.size());
    for (int id : xf_fmt) {
      auto it = custom.find(id);
      out.push_back(is_date_format(id, it == custom.end() ? std::string_view() : it->second));
    }
    return out;
  }

 private:
  bool in_xfs_ = false;
};

// ---- numbers

// The shortest decimal text that reads back as the same double, never in
// exponent notation; integers in the file are kept digit for digit.
std::string number_text(std::string_view v, bool& ok) {
  ok = true;
  std::string_view digits = v.substr(!v.empty() && v[0] == '-' ? 1 : 0);
  if (!digits.empty() && digits.size() <= 30 &&
      digits.find_first_not_of("0123456789") == std::string_view::npos) {
    if (digits.find_first_not_of('0') == std::string_view::npos) return "0";  // "-0", "00"
    return std::string(v);
  }
  double d = 0;
  auto [p, ec] = std::from_chars(v.data(), v.data() + v.size(), d);
  if (ec != std::errc() || p != v.data() + v.size() || !std::isfinite(d)) {
    ok = false;
    return {};
  }
  char buf[512];
  auto r = std::to_chars(buf, buf + sizeof buf, d, std::chars_format::fixed);
  if (r.ec != std::errc()) {
    ok = false;
    return {};
  }
  std::string out(buf, r.ptr);
  if (out == "-0") out = "0";
  return out;
}

// "AB12" -> column 27 (0-based), row 12. False if it is not a cell reference.
bool parse_ref(std::string_view ref, std::size_t& col, std::size_t& row) {
  std::size_t i = 0, c = 0;
  while (i < ref.size() && ref[i] >= 'A' && ref[i] <= 'Z') {
    c = c * 26 + static_cast<std::size_t>(ref[i] - 'A' + 1);
    if (++i > 3) return false;
  }
  if (i == 0 || c > kMaxCols) return false;
  if (!parse_uint(ref.substr(i), row) || row == 0 || row > kMaxRows) return false;
  col = c - 1;
  return true;
}

std::string col_name(std::size_t col) {
  std::string s;
  for (std::size_t n = col + 1; n > 0; n = (n - 1) / 26)
    s.insert(s.begin(), char('A' + (n - 1) % 26));
  return s;
}

// ---- the worksheet

class SheetHandler : public PartHandler {
 public:
  SheetHandler(const std::vector<std::string>& sst, const std::vector<bool>& dates, bool date1904,
               const XlsxLimits& limits)
      : sst_(sst),
        dates_(dates),
        date1904_(date1904),
        max_cells_(limits.max_cells),
        max_text_(limits.max_cell_text_bytes) {}

  std::vector<CsvRow> rows;

  void start(std::string_view name, const char** atts) override {
    if (in_is_) {
      text_.start(name);
      return;
    }
    if (name == "row") {
      const char* r = attr(atts, "r");
      std::size_t n = 0;
      if (r) {
        if (!parse_uint(r, n) || n == 0 || n > kMaxRows)
          bad(tr("row number \"" + std::string(r) + "\"", "行号“" + std::string(r) + "”有误"));
      } else {
        n = row_no_ + 1;
        if (n > kMaxRows) bad(tr("more than " + std::to_string(kMaxRows) + " rows", "超过 " + std::to_string(kMaxRows) + " 行"));
      }
      row_no_ = n;
      in_row_ = true;
      next_col_ = 0;
      cur_.line = n;
      cur_.cells.clear();
    } else if (name == "c") {
      if (!in_row_) bad(tr("a cell outside a row", "单元格不在任何行内"));
      const char* r = attr(atts, "r");
      if (r) {
        std::size_t row = 0;
        if (!parse_ref(r, col_, row)) bad(tr("cell reference \"" + std::string(r) + "\"", "单元格引用“" + std::string(r) + "”有误"));
      } else {
        col_ = next_col_;
        if (col_ >= kMaxCols) bad(tr("more than " + std::to_string(kMaxCols) + " columns", "超过 " + std::to_string(kMaxCols) + " 列"));
      }
      next_col_ = col_ + 1;
      const char* t = attr(atts, "t");
      type_ = t ? t : "n";
      const char* s = attr(atts, "s");
      std::size_t si = 0;
      style_date_ = s && parse_uint(s, si) && si < dates_.size() && dates_[si];
      v_.clear();
      text_.reset();
      in_cell_ = true;
    } else if (in_cell_ && name == "v") {
      in_v_ = true;
    } else if (in_cell_ && name == "is") {
      in_is_ = true;
    }
  }

  void end(std::string_view name) override {
    if (in_is_) {
      if (name == "is") {
        in_is_ = false;
      } else {
        text_.end(name);
      }
      return;
    }
    if (name == "v") {
      in_v_ = false;
    } else if (name == "c" && in_cell_) {
      std::string value = cell_value();
      in_cell_ = false;
      if (!value.empty()) {
        text_bytes_ += value.size();
        if (text_bytes_ > max_text_) {
          bad(tr("more than " +
                     (max_text_ >= (1u << 20) ? std::to_string(max_text_ >> 20) + " MiB"
                                              : std::to_string(max_text_) + " bytes") +
                     " of cell text (one long shared string in many cells?)",
                 "单元格文本超过 " +
                     (max_text_ >= (1u << 20) ? std::to_string(max_text_ >> 20) + " MiB"
                                              : std::to_string(max_text_) + " 字节") +
                     "（是否有很长的共享字符串用在了许多单元格里？）"));
        }
        if (cur_.cells.size() <= col_) {
          cells_ += col_ + 1 - cur_.cells.size();
          if (cells_ > max_cells_) bad(tr("more than " + std::to_string(max_cells_) + " cells",
                                          "超过 " + std::to_string(max_cells_) + " 个单元格"));
          cur_.cells.resize(col_ + 1);
        }
        cur_.cells[col_] = std::move(value);
      }
    } else if (name == "row" && in_row_) {
      in_row_ = false;
      if (!cur_.cells.empty()) rows.push_back(std::move(cur_));
      cur_ = CsvRow{};
    }
  }

  void text(std::string_view s) override {
    if (in_is_) {
      text_.text(s);
    } else if (in_v_) {
      v_.append(s);
      if (v_.size() > (1u << 20)) bad(tr("a cell value longer than 1 MiB", "单元格的值超过 1 MiB"));
    }
  }

 private:
  [[noreturn]] void bad(const std::string& what) const {
    std::string where =
        in_cell_ ? tr("cell " + col_name(col_) + std::to_string(row_no_) + ": ",
                      "单元格 " + col_name(col_) + std::to_string(row_no_) + "：")
                 : (in_row_ ? tr("row " + std::to_string(row_no_) + ": ", "第 " + std::to_string(row_no_) + " 行：")
                            : "");
    throw Error(Errc::validation, where + what);
  }

  std::string cell_value() const {
    if (type_ == "s") {
      std::size_t i = 0;
      if (v_.empty()) return {};
      if (!parse_uint(v_, i) || i >= sst_.size()) {
        bad(tr("shared string " + v_ + " does not exist (the workbook has " +
                   std::to_string(sst_.size()) + ")",
               "共享字符串 " + v_ + " 不存在（工作簿只有 " + std::to_string(sst_.size()) + " 个）"));
      }
      return sst_[i];
    }
    if (type_ == "inlineStr") return text_.value;
    if (type_ == "str" || type_ == "e") return v_;
    if (type_ == "b") return v_.empty() ? "" : (v_ == "1" || v_ == "true" ? "TRUE" : "FALSE");
    if (type_ == "d") {  // ISO 8601 date cell
      if (v_.size() >= 10 && (v_.size() == 10 || v_.substr(10) == "T00:00:00" ||
                              v_.substr(10) == "T00:00:00Z" || v_.substr(10) == "T00:00:00.000")) {
        return v_.substr(0, 10);
      }
      return v_;
    }
    if (v_.empty()) return {};
    bool ok = true;
    std::string num = number_text(v_, ok);
    if (!ok) bad(tr("\"" + v_ + "\" is not a number", "“" + v_ + "”不是数字"));
    if (style_date_) {
      std::string date = excel_serial_to_date(std::strtod(num.c_str(), nullptr), date1904_);
      if (!date.empty()) return date;
    }
    return num;
  }

  const std::vector<std::string>& sst_;
  const std::vector<bool>& dates_;
  bool date1904_;
  std::size_t max_cells_;
  std::uint64_t max_text_;
  std::size_t cells_ = 0;
  std::uint64_t text_bytes_ = 0;  // of the cells kept (a value replaced counts twice: harmless)
  std::size_t row_no_ = 0, col_ = 0, next_col_ = 0;
  bool in_row_ = false, in_cell_ = false, in_v_ = false, in_is_ = false, style_date_ = false;
  std::string type_, v_;
  TextCollector text_;
  CsvRow cur_;
};

// Howard Hinnant's civil_from_days: days since 1970-01-01 -> y, m, d.
void civil_from_days(long long z, long long& y, unsigned& m, unsigned& d) {
  z += 719468;
  const long long era = (z >= 0 ? z : z - 146096) / 146097;
  const unsigned doe = static_cast<unsigned>(z - era * 146097);
  const unsigned yoe = (doe - doe / 1460 + doe / 36524 - doe / 146096) / 365;
  y = static_cast<long long>(yoe) + era * 400;
  const unsigned doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
  const unsigned mp = (5 * doy + 2) / 153;
  d = doy - (153 * mp + 2) / 5 + 1;
  m = mp < 10 ? mp + 3 : mp - 9;
  y += (m <= 2);
}

}  // namespace

std::string excel_serial_to_date(double serial, bool date1904) {
  if (!std::isfinite(serial) || serial < (date1904 ? 0.0 : 1.0) || serial >= 2958466.0) return {};
  double whole = std::floor(serial);
  long long secs = std::llround((serial - whole) * 86400.0);
  long long day = static_cast<long long>(whole);
  if (secs >= 86400) {
    ++day;
    secs = 0;
  }
  char buf[40];
  long long y = 0;
  unsigned m = 0, d = 0;
  if (!date1904 && day == 60) {
    y = 1900, m = 2, d = 29;  // Excel's phantom leap day (Lotus 1-2-3 compatibility)
  } else {
    // 1900 system: serial 1 = 1900-01-01, and from 61 on one less for the phantom day.
    long long unix_days = date1904 ? day - 24107 : (day < 60 ? day - 25568 : day - 25569);
    civil_from_days(unix_days, y, m, d);
  }
  if (y > 9999) return {};
  int n = 0;
  if (secs == 0) {
    n = std::snprintf(buf, sizeof buf, "%04lld-%02u-%02u", y, m, d);
  } else {
    n = std::snprintf(buf, sizeof buf, "%04lld-%02u-%02u %02lld:%02lld:%02lld", y, m, d,
                      secs / 3600, secs / 60 % 60, secs % 60);
  }
  return std::string(buf, static_cast<std::size_t>(n));
}

bool is_date_format(int id, std::string_view code) {
  // Built-in date and time formats, and the CJK locales' built-in dates.
  if ((id >= 14 && id <= 22) || (id >= 45 && id <= 47) || (id >= 27 && id <= 36) ||
      (id >= 50 && id <= 58)) {
    return true;
  }
  if (code.empty()) return false;
  bool y = false, m = false, d = false, h = false, s = false;
  for (std::size_t i = 0; i < code.size(); ++i) {
    char c = code[i];
    if (c == '"') {  // literal text
      std::size_t close = code.find('"', i + 1);
      if (close == std::string_view::npos) break;
      i = close;
    } else if (c == '[') {  // [Red], [$-804], [h]
      std::size_t close = code.find(']', i + 1);
      if (close == std::string_view::npos) break;
      std::string_view inner = code.substr(i + 1, close - i - 1);
      if (inner == "h" || inner == "hh" || inner == "m" || inner == "mm" || inner == "s" ||
          inner == "ss") {
        h = true;  // elapsed time: a duration, not a date
      }
      i = close;
    } else if (c == '\\' || c == '_' || c == '*') {
      ++i;  // escaped character / padding
    } else {
      switch (c | 0x20) {
        case 'y':
          y = true;
          break;
        case 'm':
          m = true;
          break;
        case 'd':
          d = true;
          break;
        case 'h':
          h = true;
          break;
        case 's':
          s = true;
          break;
        default:
          break;
      }
    }
  }
  return y || d || (m && !h && !s);
}

XlsxTable read_xlsx_bytes(std::string_view bytes, const std::string& sheet_name,
                          const std::string& name, const XlsxLimits& limits) {
  Package pkg(bytes, name, limits);
  auto parse = [&](const std::string& part, PartHandler& h) {
    try {
      pkg.parse(part, h);
    } catch (const Error& e) {
      std::string msg = e.what();
      if (msg.rfind(name + tr(": ", "："), 0) == 0) throw;  // already named by fail()
      fail(name, part, msg);  // thrown by a handler: name the file and the part
    }
  };
  WorkbookHandler wb;
  parse("xl/workbook.xml", wb);
  RelsHandler rels;
  parse("xl/_rels/workbook.xml.rels", rels);

  XlsxTable out;
  for (const auto& s : wb.sheets) out.sheets.push_back(s.name);
  if (wb.sheets.empty()) fail(name, "xl/workbook.xml", tr("the workbook has no sheets", "工作簿里没有工作表"));
  const SheetEntry* chosen = nullptr;
  for (const auto& s : wb.sheets) {
    if (sheet_name.empty() || s.name == sheet_name) {
      chosen = &s;
      break;
    }
  }
  if (!chosen) {
    std::string list;
    std::string list_zh;
    for (const auto& s : wb.sheets) list += (list.empty() ? "" : ", ") + ("\"" + s.name + "\"");
    for (const auto& s : wb.sheets) list_zh += (list_zh.empty() ? "" : "、") + ("“" + s.name + "”");
    throw Error(Errc::validation,
                tr(name + ": no sheet named \"" + sheet_name + "\"; the sheets are " + list,
                   name + "：没有名为“" + sheet_name + "”的工作表；现有工作表：" + list_zh));
  }
  out.sheet = chosen->name;
  auto rel = rels.rels.find(chosen->rel_id);
  if (rel == rels.rels.end()) {
    fail(name, "xl/_rels/workbook.xml.rels",
         tr("sheet \"" + chosen->name + "\" (" + chosen->rel_id + ") has no relationship",
            "工作表“" + chosen->name + "”（" + chosen->rel_id + "）没有对应的关系"));
  }
  std::string sheet_part = resolve_target(rel->second.target);

  // Shared strings and styles: where the relationships say, else the usual place.
  std::string sst_part = "xl/sharedStrings.xml", styles_part = "xl/styles.xml";
  for (const auto& entry : rels.rels) {
    const auto& r = entry.second;  // not a structured binding: clang 14 cannot capture one
    auto ends = [&](const char* suffix) {
      std::size_t n = std::strlen(suffix);
      return r.type.size() >= n && r.type.compare(r.type.size() - n, n, suffix) == 0;
    };
    if (ends("/sharedStrings")) sst_part = resolve_target(r.target);
    if (ends("/styles")) styles_part = resolve_target(r.target);
  }
  SharedStringsHandler sst(limits.max_cells);
  if (pkg.has(sst_part)) parse(sst_part, sst);
  StylesHandler styles;
  if (pkg.has(styles_part)) parse(styles_part, styles);
  std::vector<bool> dates = styles.date_styles();

  SheetHandler sheet(sst.strings, dates, wb.date1904, limits);
  parse(sheet_part, sheet);
  out.rows = std::move(sheet.rows);
  out.date1904 = wb.date1904;
  return out;
}

XlsxTable read_xlsx(const std::string& path, const std::string& sheet_name,
                    const XlsxLimits& limits) {
  std::ifstream in(path, std::ios::binary);
  if (!in) throw Error(Errc::io, tr("cannot read " + path, "无法读取 " + path));
  std::ostringstream ss;
  ss << in.rdbuf();
  if (!in && !in.eof()) throw Error(Errc::io, tr("cannot read " + path, "无法读取 " + path));
  std::string bytes = ss.str();
  return read_xlsx_bytes(bytes, sheet_name, path, limits);
}

}  // namespace kehu
