// The xlsx ends of the sheet pipeline: export_xlsx (libxlsxwriter) and
// import_xlsx (xlsx_reader.cc + the shared import in sheet_csv.cc).
#include <xlsxwriter.h>

#include <algorithm>
#include <cstdio>
#include <memory>
#include <string>
#include <vector>

#include "kehu/error.h"
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

void check(lxw_error err, const std::string& path, const char* what) {
  if (err != LXW_NO_ERROR) {
    throw Error(Errc::io, "cannot write " + path + ": " + what + ": " + lxw_strerror(err));
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

}  // namespace

std::size_t export_xlsx(const Replica& replica, const std::string& path) {
  ExportTable t = sheet::build_export(replica);
  const std::size_t ncols = t.columns.size();
  const std::size_t nrows = t.rows.size();
  if (nrows + 1 > LXW_ROW_MAX)
    throw Error(Errc::io, "cannot write " + path + ": too many rows for Excel");

  lxw_workbook_options options{};
  options.constant_memory = LXW_TRUE;  // rows go to a temporary file as they are written
  std::unique_ptr<lxw_workbook, WorkbookCloser> wb(workbook_new_opt(path.c_str(), &options));
  if (!wb) throw Error(Errc::io, "cannot write " + path + ": cannot create the workbook");
  lxw_worksheet* ws = workbook_add_worksheet(wb.get(), "客户");
  if (!ws) throw Error(Errc::io, "cannot write " + path + ": cannot add a worksheet");

  lxw_format* header_fmt = workbook_add_format(wb.get());
  format_set_bold(header_fmt);
  format_set_bg_color(header_fmt, 0xD9E1F2);
  format_set_border(header_fmt, LXW_BORDER_THIN);
  lxw_format* text_fmt = workbook_add_format(wb.get());
  format_set_num_format(text_fmt, "@");
  lxw_format* date_fmt = workbook_add_format(wb.get());
  format_set_num_format(date_fmt, "yyyy-mm-dd");
  lxw_format* money_fmt = workbook_add_format(wb.get());
  format_set_num_format(money_fmt, "¥#,##0.00");
  lxw_format* green = workbook_add_format(wb.get());
  format_set_bg_color(green, kGreenFill);
  format_set_font_color(green, kGreenText);
  lxw_format* yellow = workbook_add_format(wb.get());
  format_set_bg_color(yellow, kYellowFill);
  format_set_font_color(yellow, kYellowText);
  lxw_format* red = workbook_add_format(wb.get());
  format_set_bg_color(red, kRedFill);
  format_set_font_color(red, kRedText);

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
        return text_fmt;
      case CellKind::date:
        return date_fmt;
      case CellKind::money:
        return money_fmt;
      case CellKind::number:
        return nullptr;
    }
    return nullptr;
  };
  for (std::size_t j = 0; j < ncols; ++j) {
    auto c = static_cast<lxw_col_t>(j);
    check(worksheet_set_column(ws, c, c, widths[j], col_format(j)), path, "column width");
  }

  for (std::size_t j = 0; j < ncols; ++j) {
    check(worksheet_write_string(ws, 0, static_cast<lxw_col_t>(j), t.columns[j].header.c_str(),
                                 header_fmt),
          path, "header");
  }
  for (std::size_t i = 0; i < nrows; ++i) {
    auto r = static_cast<lxw_row_t>(i + 1);
    for (std::size_t j = 0; j < ncols; ++j) {
      const json& v = t.rows[i][j];
      if (v.is_null()) continue;
      auto c = static_cast<lxw_col_t>(j);
      lxw_datetime dt{};
      lxw_error err = LXW_NO_ERROR;
      if (kinds[j] == CellKind::date && v.is_string() && parse_date(v.get<std::string>(), dt)) {
        err = worksheet_write_datetime(ws, r, c, &dt, date_fmt);
      } else if (kinds[j] == CellKind::money && v.is_number_integer()) {
        err = worksheet_write_number(ws, r, c, static_cast<double>(v.get<std::int64_t>()) / 100.0,
                                     money_fmt);
      } else if (kinds[j] == CellKind::number && v.is_number()) {
        err = worksheet_write_number(ws, r, c, v.get<double>(), nullptr);
      } else {
        std::string s = cell_text(t.columns[j], v);
        if (s.empty()) continue;
        err = worksheet_write_string(ws, r, c, s.c_str(), text_fmt);
      }
      check(err, path, "a cell");
    }
  }

  worksheet_freeze_panes(ws, 1, 0);
  if (ncols > 0) {
    check(worksheet_autofilter(ws, 0, 0, static_cast<lxw_row_t>(std::max<std::size_t>(nrows, 1)),
                               static_cast<lxw_col_t>(ncols - 1)),
          path, "autofilter");
  }
  // Dropdowns of the Chinese labels on enum columns, for the rows there are and
  // the rows a user adds below them.
  const lxw_row_t last_row = LXW_ROW_MAX - 1;
  for (std::size_t j = 0; j < ncols; ++j) {
    const FieldDef* f = t.columns[j].field;
    if (!f || f->type != FieldType::enumeration || f->values.empty()) continue;
    std::vector<std::string> labels;
    for (const auto& ev : f->values) labels.push_back(ev.zh);
    std::vector<const char*> list;
    for (const auto& l : labels) list.push_back(l.c_str());
    list.push_back(nullptr);
    lxw_data_validation dv{};
    dv.validate = LXW_VALIDATION_TYPE_LIST;
    dv.value_list = const_cast<char**>(list.data());
    dv.ignore_blank = LXW_VALIDATION_ON;
    dv.error_type = LXW_VALIDATION_ERROR_TYPE_STOP;
    std::string title = f->zh;
    std::string message = "请从下拉列表中选择" + f->zh;
    dv.error_title = title.data();
    dv.error_message = message.data();
    auto c = static_cast<lxw_col_t>(j);
    check(worksheet_data_validation_range(ws, 1, c, last_row, c, &dv), path, "dropdown");
  }
  // Colours: cooperation status done / in progress, and overdue next follow-up dates.
  for (std::size_t j = 0; j < ncols; ++j) {
    const FieldDef* f = t.columns[j].field;
    if (!f || t.columns[j].kind != ExportColumn::Kind::customer) continue;
    auto c = static_cast<lxw_col_t>(j);
    if (f->key == "status") {
      const std::pair<const char*, lxw_format*> rules[] = {{"signed", green},
                                                           {"negotiating", yellow}};
      for (const auto& [key, fmt] : rules) {
        const EnumValue* ev = f->find_value(key);
        if (!ev) continue;
        std::string value = "\"" + ev->zh + "\"";
        lxw_conditional_format cf{};
        cf.type = LXW_CONDITIONAL_TYPE_CELL;
        cf.criteria = LXW_CONDITIONAL_CRITERIA_EQUAL_TO;
        cf.value_string = value.data();
        cf.format = fmt;
        check(worksheet_conditional_format_range(ws, 1, c, last_row, c, &cf), path,
              "status colours");
      }
    } else if (f->key == "next_date") {
      std::string cell = "$" + col_letters(j) + "2";
      std::string formula = "=AND(" + cell + "<>\"\"," + cell + "<TODAY())";
      lxw_conditional_format cf{};
      cf.type = LXW_CONDITIONAL_TYPE_FORMULA;
      cf.value_string = formula.data();
      cf.format = red;
      check(worksheet_conditional_format_range(ws, 1, c, last_row, c, &cf), path, "overdue colour");
    }
  }
  lxw_error err = workbook_close(wb.release());
  if (err != LXW_NO_ERROR) throw Error(Errc::io, "cannot write " + path + ": " + lxw_strerror(err));
  return nrows;
}

ImportReport import_xlsx(Replica& replica, const std::string& path, const ImportOptions& opts) {
  XlsxTable table = read_xlsx(path, opts.sheet);
  ImportReport report;
  report.format = "xlsx";
  report.sheet = table.sheet;
  if (table.rows.empty()) {
    throw Error(Errc::validation,
                path + ": sheet \"" + table.sheet + "\" is empty (no header row)");
  }
  return sheet::import_rows(replica, path, table.rows, opts, std::move(report));
}

}  // namespace kehu
