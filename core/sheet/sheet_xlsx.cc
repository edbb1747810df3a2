// The xlsx ends of the sheet pipeline: export_xlsx (libxlsxwriter) and
// import_xlsx (xlsx_reader.cc + the shared import in sheet_csv.cc).
//
// The export is three worksheets: 客户 (one row per customer, with its latest
// follow-up; first, so that import reads it by default), 跟进记录 (every
// follow-up) and 订单 (every order), each led by the customer's code and name.
#include <xlsxwriter.h>

#include <algorithm>
#include <cstdio>
#include <memory>
#include <string>
#include <utility>
#include <vector>

#include "kehu/error.h"
#include "kehu/lang.h"
#include "kehu/replica.h"
#include "kehu/sheet.h"
#include "kehu/xlsx.h"
#include "sheet_internal.h"

namespace kehu {
namespace {

using sheet::ExportColumn;
using sheet::ExportTable;

// Excel's conditional-format palette ("Good", "Neutral", "Bad").
constexpr lxw_color_t kGreenFill = 0xC6EFCE, kGreenText = 0x006100;
constexpr lxw_color_t kYellowFill = 0xFFEB9C, kYellowText = 0x9C5700;
constexpr lxw_color_t kRedFill = 0xFFC7CE, kRedText = 0x9C0006;
constexpr double kMaxWidth = 50;

struct WorkbookCloser {
  void operator()(lxw_workbook* wb) const {
    if (wb) workbook_close(wb);
  }
};

void check(lxw_error err, const std::string& path, const std::string& what) {
  if (err != LXW_NO_ERROR) {
    throw Error(Errc::io, tr("cannot write " + path + ": " + what + ": " + lxw_strerror(err),
                             "无法写入 " + path + "：" + what + "：" + lxw_strerror(err)));
  }
}

enum class CellKind { number, text, date, money };

CellKind kind_of(const ExportColumn& c) {
  if (c.kind == ExportColumn::Kind::serial) return CellKind::number;
  if (c.kind == ExportColumn::Kind::code || !c.field) return CellKind::text;
  switch (c.field->type) {
    case FieldType::date:
      return CellKind::date;
    case FieldType::money:
      return CellKind::money;
    case FieldType::integer:
      return CellKind::number;
    default:
      return CellKind::text;
  }
}

// "A", "B", ... "AA" for a 0-based column.
std::string col_letters(std::size_t col) {
  std::string s;
  for (std::size_t n = col + 1; n > 0; n = (n - 1) / 26)
    s.insert(s.begin(), char('A' + (n - 1) % 26));
  return s;
}

// The displayed text of a cell, for column widths and text cells.
std::string cell_text(const ExportColumn& c, const json& v) {
  if (v.is_null()) return {};
  if (c.kind == ExportColumn::Kind::serial) return std::to_string(v.get<std::size_t>());
  if (c.kind == ExportColumn::Kind::code) return v.get<std::string>();
  return c.field ? display_value(*c.field, v, Lang::zh) : std::string();
}

bool parse_date(const std::string& s, lxw_datetime& dt) {
  int y = 0, m = 0, d = 0;
  if (s.size() != 10 || std::sscanf(s.c_str(), "%4d-%2d-%2d", &y, &m, &d) != 3) return false;
  dt = lxw_datetime{y, m, d, 0, 0, 0.0};
  return true;
}

// The cell formats every sheet of the export shares.
struct Formats {
  lxw_format* header = nullptr;
  lxw_format* text = nullptr;
  lxw_format* date = nullptr;
  lxw_format* money = nullptr;
  lxw_format* good = nullptr;     // green
  lxw_format* neutral = nullptr;  // yellow
  lxw_format* bad = nullptr;      // red
};

lxw_format* tone_format(lxw_workbook* wb, lxw_color_t fill, lxw_color_t text) {
  lxw_format* f = workbook_add_format(wb);
  format_set_bg_color(f, fill);
  format_set_font_color(f, text);
  return f;
}

Formats add_formats(lxw_workbook* wb) {
  Formats f;
  f.header = workbook_add_format(wb);
  format_set_bold(f.header);
  format_set_bg_color(f.header, 0xD9E1F2);
  format_set_border(f.header, LXW_BORDER_THIN);
  f.text = workbook_add_format(wb);
  format_set_num_format(f.text, "@");
  f.date = workbook_add_format(wb);
  format_set_num_format(f.date, "yyyy-mm-dd");
  f.money = workbook_add_format(wb);
  format_set_num_format(f.money, "¥#,##0.00");
  f.good = tone_format(wb, kGreenFill, kGreenText);
  f.neutral = tone_format(wb, kYellowFill, kYellowText);
  f.bad = tone_format(wb, kRedFill, kRedText);
  return f;
}

// Status colours: which enum values of which field are done (green), under way
// (yellow) or lost (red). Values not listed stay uncoloured.
enum class Tone { good, neutral, bad };
struct ValueTone {
  const char* value;  // enum key
  Tone tone;
};
struct ToneRule {
  const char* collection;
  const char* field;
  std::vector<ValueTone> values;
};

const std::vector<ToneRule>& tone_rules() {
  static const std::vector<ToneRule> rules = {
      {"customers", "status", {{"signed", Tone::good}, {"negotiating", Tone::neutral}}},
      // An order is done when delivered; placed, in production and shipped are
      // still under way (shipped is not yet received); cancelled is lost.
      {"orders",
       "status",
       {{"delivered", Tone::good},
        {"placed", Tone::neutral},
        {"producing", Tone::neutral},
        {"shipped", Tone::neutral},
        {"cancelled", Tone::bad}}},
  };
  return rules;
}

lxw_format* tone_of(const Formats& fmt, Tone t) {
  switch (t) {
    case Tone::good:
      return fmt.good;
    case Tone::neutral:
      return fmt.neutral;
    case Tone::bad:
      return fmt.bad;
  }
  return nullptr;
}

// The collection a column's field belongs to.
std::string column_collection(const ExportTable& t, const ExportColumn& c) {
  switch (c.kind) {
    case ExportColumn::Kind::customer:
      return "customers";
    case ExportColumn::Kind::followup:
      return "followups";
    default:
      return t.collection;
  }
}

// The rows there are and the rows a user adds below them.
constexpr lxw_row_t kLastRow = LXW_ROW_MAX - 1;

// A dropdown of the Chinese labels of enum field `f` on column `c`.
void add_dropdown(lxw_worksheet* ws, lxw_col_t c, const FieldDef& f, const std::string& path) {
  std::vector<const char*> list;
  for (const auto& ev : f.values) list.push_back(ev.zh.c_str());
  list.push_back(nullptr);
  lxw_data_validation dv{};
  dv.validate = LXW_VALIDATION_TYPE_LIST;
  dv.value_list = const_cast<char**>(list.data());
  dv.ignore_blank = LXW_VALIDATION_ON;
  dv.error_type = LXW_VALIDATION_ERROR_TYPE_STOP;
  std::string title = f.zh;
  std::string message = "请从下拉列表中选择" + f.zh;
  dv.error_title = title.data();
  dv.error_message = message.data();
  check(worksheet_data_validation_range(ws, 1, c, kLastRow, c, &dv), path, tr("dropdown", "下拉列表"));
}

// One conditional format per coloured value of `f` on column `c` (cells equal to
// the value's Chinese label).
void add_status_colours(lxw_worksheet* ws, lxw_col_t c, const FieldDef& f, const ToneRule& rule,
                        const Formats& fmt, const std::string& path) {
  for (const ValueTone& vt : rule.values) {
    const EnumValue* ev = f.find_value(vt.value);
    if (!ev) continue;
    std::string value = "\"" + ev->zh + "\"";
    lxw_conditional_format cf{};
    cf.type = LXW_CONDITIONAL_TYPE_CELL;
    cf.criteria = LXW_CONDITIONAL_CRITERIA_EQUAL_TO;
    cf.value_string = value.data();
    cf.format = tone_of(fmt, vt.tone);
    check(worksheet_conditional_format_range(ws, 1, c, kLastRow, c, &cf), path, tr("status colours", "状态颜色"));
  }
}

// Red when the date in column `c` is before TODAY().
void add_overdue_colour(lxw_worksheet* ws, lxw_col_t c, const Formats& fmt,
                        const std::string& path) {
  std::string cell = "$" + col_letters(c) + "2";
  std::string formula = "=AND(" + cell + "<>\"\"," + cell + "<TODAY())";
  lxw_conditional_format cf{};
  cf.type = LXW_CONDITIONAL_TYPE_FORMULA;
  cf.value_string = formula.data();
  cf.format = fmt.bad;
  check(worksheet_conditional_format_range(ws, 1, c, kLastRow, c, &cf), path, tr("overdue colour", "逾期颜色"));
}

// One worksheet `name` holding table `t`: bold, frozen header row with autofilter,
// column widths by display width, typed cells, dropdowns and colours.
void write_sheet(lxw_workbook* wb, const char* name, const ExportTable& t, const Formats& fmt,
                 const std::string& path, const RowProgress* progress = nullptr) {
  const std::size_t ncols = t.columns.size();
  const std::size_t nrows = t.rows.size();
  if (nrows + 1 > LXW_ROW_MAX)
    throw Error(Errc::io, tr("cannot write " + path + ": too many rows for Excel in " + name,
                             "无法写入 " + path + "：" + name + " 的行数超出 Excel 的上限"));
  lxw_worksheet* ws = workbook_add_worksheet(wb, name);
  if (!ws) throw Error(Errc::io, tr("cannot write " + path + ": cannot add the worksheet " + name,
                                     "无法写入 " + path + "：无法添加工作表 " + name));

  std::vector<CellKind> kinds;
  std::vector<double> widths;
  for (const auto& c : t.columns) {
    kinds.push_back(kind_of(c));
    widths.push_back(static_cast<double>(display_width(c.header)) + 3);  // + the filter arrow
  }
  for (const auto& row : t.rows) {
    for (std::size_t j = 0; j < ncols; ++j) {
      double w = kinds[j] == CellKind::date
                     ? 10
                     : static_cast<double>(display_width(cell_text(t.columns[j], row[j])));
      if (kinds[j] == CellKind::money) w += 3;  // ¥ and thousands separators
      widths[j] = std::max(widths[j], std::min(w + 1, kMaxWidth));
    }
  }
  auto col_format = [&](std::size_t j) -> lxw_format* {
    switch (kinds[j]) {
      case CellKind::text:
        return fmt.text;
      case CellKind::date:
        return fmt.date;
      case CellKind::money:
        return fmt.money;
      case CellKind::number:
        return nullptr;
    }
    return nullptr;
  };
  for (std::size_t j = 0; j < ncols; ++j) {
    auto c = static_cast<lxw_col_t>(j);
    check(worksheet_set_column(ws, c, c, widths[j], col_format(j)), path, tr("column width", "列宽"));
  }

  for (std::size_t j = 0; j < ncols; ++j) {
    check(worksheet_write_string(ws, 0, static_cast<lxw_col_t>(j), t.columns[j].header.c_str(),
                                 fmt.header),
          path, tr("header", "表头"));
  }
  for (std::size_t i = 0; i < nrows; ++i) {
    if (progress && *progress && i > 0) (*progress)(i, nrows);
    auto r = static_cast<lxw_row_t>(i + 1);
    for (std::size_t j = 0; j < ncols; ++j) {
      const json& v = t.rows[i][j];
      if (v.is_null()) continue;
      auto c = static_cast<lxw_col_t>(j);
      lxw_datetime dt{};
      lxw_error err = LXW_NO_ERROR;
      if (kinds[j] == CellKind::date && v.is_string() && parse_date(v.get<std::string>(), dt)) {
        err = worksheet_write_datetime(ws, r, c, &dt, fmt.date);
      } else if (kinds[j] == CellKind::money && v.is_number_integer()) {
        err = worksheet_write_number(ws, r, c, static_cast<double>(v.get<std::int64_t>()) / 100.0,
                                     fmt.money);
      } else if (kinds[j] == CellKind::number && v.is_number()) {
        err = worksheet_write_number(ws, r, c, v.get<double>(), nullptr);
      } else {
        std::string s = cell_text(t.columns[j], v);
        if (s.empty()) continue;
        err = worksheet_write_string(ws, r, c, s.c_str(), fmt.text);
      }
      check(err, path, tr("a cell", "单元格"));
    }
  }

  worksheet_freeze_panes(ws, 1, 0);
  if (ncols > 0) {
    check(worksheet_autofilter(ws, 0, 0, static_cast<lxw_row_t>(std::max<std::size_t>(nrows, 1)),
                               static_cast<lxw_col_t>(ncols - 1)),
          path, tr("autofilter", "筛选"));
  }
  for (std::size_t j = 0; j < ncols; ++j) {
    const ExportColumn& col = t.columns[j];
    const FieldDef* f = col.field;
    if (!f) continue;
    auto c = static_cast<lxw_col_t>(j);
    if (f->type == FieldType::enumeration && !f->values.empty()) add_dropdown(ws, c, *f, path);
    const std::string coll = column_collection(t, col);
    for (const ToneRule& rule : tone_rules()) {
      if (coll == rule.collection && f->key == rule.field)
        add_status_colours(ws, c, *f, rule, fmt, path);
    }
    // Only the customer's own next date is a to-do; a follow-up's is history.
    if (t.collection == "customers" && col.kind == ExportColumn::Kind::customer &&
        f->key == "next_date")
      add_overdue_colour(ws, c, fmt, path);
  }
}

}  // namespace

std::size_t export_xlsx(const Replica& replica, const std::string& path, const RowProgress& progress) {
  const ExportTable customers = sheet::build_export(replica);
  // Every collection of a customer's records gets a sheet of its own, named as
  // the collection (跟进记录, 订单, 联系人, 服务记录, 市场活动): a backup to Excel
  // leaves nothing out.
  std::vector<std::pair<std::string, ExportTable>> children;
  for (const CollectionDef& c : replica.schema().collections()) {
    if (!c.parent_field.empty()) children.emplace_back(c.zh, sheet::build_child_export(replica, c.name));
  }

  lxw_workbook_options options{};
  options.constant_memory = LXW_TRUE;  // rows go to a temporary file as they are written
  std::unique_ptr<lxw_workbook, WorkbookCloser> wb(workbook_new_opt(path.c_str(), &options));
  if (!wb) throw Error(Errc::io, tr("cannot write " + path + ": cannot create the workbook",
                                    "无法写入 " + path + "：无法创建工作簿"));
  const Formats fmt = add_formats(wb.get());
  // The customers first: import reads the first sheet, so an export re-imports.
  write_sheet(wb.get(), "客户", customers, fmt, path, &progress);
  for (const auto& [sheet, table] : children) write_sheet(wb.get(), sheet.c_str(), table, fmt, path);
  lxw_error err = workbook_close(wb.release());
  if (err != LXW_NO_ERROR) throw Error(Errc::io, tr("cannot write " + path + ": " + lxw_strerror(err),
                                                      "无法写入 " + path + "：" + lxw_strerror(err)));
  if (progress) progress(customers.rows.size(), customers.rows.size());
  return customers.rows.size();
}

ImportReport import_xlsx(Replica& replica, const std::string& path, const ImportOptions& opts) {
  XlsxTable table = read_xlsx(path, opts.sheet);
  ImportReport report;
  report.format = "xlsx";
  // Templates often open with an instructions sheet (填写说明) and keep the rows
  // on another: without --sheet, the first sheet with a customer header is read,
  // and the summary says so (walkthrough 19, R19-11).
  if (opts.sheet.empty() && !sheet::has_customer_header(replica.schema(), table.rows, opts)) {
    for (std::size_t i = 1; i < table.sheets.size(); ++i) {
      XlsxTable other = read_xlsx(path, table.sheets[i]);
      if (!sheet::has_customer_header(replica.schema(), other.rows, opts)) continue;
      report.notes.push_back(tr("the first sheet \"" + table.sheet + "\" has no customer header row; read sheet \"" +
                                    other.sheet + "\" (choose another with --sheet NAME)",
                                "第一个工作表“" + table.sheet + "”没有客户表头行；已读取工作表“" + other.sheet +
                                    "”（可用 --sheet 名称 指定其他工作表）"));
      table = std::move(other);
      break;
    }
  }
  report.sheet = table.sheet;
  if (table.rows.empty()) {
    throw Error(Errc::validation,
                tr(path + ": sheet \"" + table.sheet + "\" is empty (no header row)",
                   path + "：工作表“" + table.sheet + "”是空的（没有表头行）"));
  }
  // The export's 跟进记录, 订单, 联系人, 服务记录 and 市场活动 sheets list child records, one per row; read as
  // customer rows they would only produce confusing "required" errors.
  for (const CollectionDef& c : replica.schema().collections()) {
    if (c.name != "customers" && c.zh == table.sheet) {
      throw Error(Errc::validation,
                  tr(path + ": sheet \"" + table.sheet + "\" lists " + c.zh + " (" + c.name +
                         "), one per row; kehu import reads customer rows (the sheet 客户 of an "
                         "export) and does not import " +
                         c.name + " from their own sheet",
                     path + "：工作表“" + table.sheet + "”每行是一条" + c.zh + "（" + c.name +
                         "）；kehu import 只读取客户行（导出文件中的“客户”工作表），不从单独的工作表导入" +
                         c.zh));
    }
  }
  // The export's other sheets: rows added there in Excel are imported with the
  // customers, in one transaction (walkthrough 19, R19-17).
  const sheet::ChildRows children = sheet::read_child_sheets(replica, path, table, report);
  auto run = [&] {
    report = sheet::import_rows(replica, path, table.rows, opts, std::move(report), table.date1904);
    if (report.bad_rows == 0 || opts.skip_bad) sheet::add_child_rows(replica, children, opts.dry_run, report);
  };
  if (opts.dry_run) {
    run();
  } else {
    replica.batch(run);
  }
  return report;
}

}  // namespace kehu
