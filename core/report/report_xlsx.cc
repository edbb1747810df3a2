// Reports as .xlsx workbooks with a native chart (libxlsxwriter): one sheet per
// table, a bold header row, money in yuan ("0.00"), percent as "0.0%", and the
// table's ChartHint as a column or pie chart over the sheet's own cells.
#include <xlsxwriter.h>

#include <algorithm>
#include <filesystem>

#include "kehu/error.h"
#include "kehu/lang.h"
#include "kehu/reports.h"
#include "kehu/text.h"

namespace kehu {

void write_report_xlsx(const Report& r, Lang lang, const std::string& path) {
  std::error_code ec;
  std::filesystem::remove(path, ec);  // libxlsxwriter writes a new file or fails
  lxw_workbook* wb = workbook_new(path.c_str());
  if (!wb) throw Error(Errc::io, tr("cannot create " + path, "无法创建 " + path));
  lxw_format* header = workbook_add_format(wb);
  format_set_bold(header);
  format_set_bottom(header, LXW_BORDER_THIN);
  lxw_format* money = workbook_add_format(wb);
  format_set_num_format(money, "0.00");
  lxw_format* percent = workbook_add_format(wb);
  format_set_num_format(percent, "0.0%");
  for (const auto& t : r.tables) {
    lxw_worksheet* ws = workbook_add_worksheet(wb, t.name.c_str());
    std::vector<std::size_t> widths(t.columns.size(), 8);
    for (std::size_t c = 0; c < t.columns.size(); ++c) {
      const std::string label = t.columns[c].label(lang);
      worksheet_write_string(ws, 0, static_cast<lxw_col_t>(c), label.c_str(), header);
      widths[c] = std::max(widths[c], display_width(label) + 2);
    }
    for (std::size_t i = 0; i < t.rows.size(); ++i) {
      const auto row = static_cast<lxw_row_t>(i + 1);
      for (std::size_t c = 0; c < t.rows[i].size(); ++c) {
        const Cell& cell = t.rows[i][c];
        const auto col = static_cast<lxw_col_t>(c);
        switch (cell.kind) {
          case CellKind::empty:
            break;
          case CellKind::text:
            worksheet_write_string(ws, row, col, cell.text.c_str(), nullptr);
            break;
          case CellKind::integer:
            worksheet_write_number(ws, row, col, static_cast<double>(cell.number), nullptr);
            break;
          case CellKind::money:
            worksheet_write_number(ws, row, col, static_cast<double>(cell.number) / 100.0, money);
            break;
          case CellKind::percent:
            worksheet_write_number(ws, row, col, cell.percent / 100.0, percent);
            break;
        }
        if (c < widths.size()) widths[c] = std::max(widths[c], display_width(cell_text(cell)) + 2);
      }
    }
    for (std::size_t c = 0; c < widths.size(); ++c) {
      worksheet_set_column(ws, static_cast<lxw_col_t>(c), static_cast<lxw_col_t>(c),
                           static_cast<double>(std::min<std::size_t>(widths[c], 50)), nullptr);
    }
    const ChartHint& h = t.chart;
    if (h.kind == ChartKind::none || h.first_row >= h.last_row || h.last_row > t.rows.size()) {
      continue;
    }
    lxw_chart* chart =
        workbook_add_chart(wb, h.kind == ChartKind::pie ? LXW_CHART_PIE : LXW_CHART_COLUMN);
    const auto first = static_cast<lxw_row_t>(h.first_row + 1);
    const auto last = static_cast<lxw_row_t>(h.last_row);
    for (int vc : h.value_columns) {
      lxw_chart_series* s = chart_add_series(chart, nullptr, nullptr);
      chart_series_set_categories(s, t.name.c_str(), first,
                                  static_cast<lxw_col_t>(h.category_column), last,
                                  static_cast<lxw_col_t>(h.category_column));
      chart_series_set_values(s, t.name.c_str(), first, static_cast<lxw_col_t>(vc), last,
                              static_cast<lxw_col_t>(vc));
      chart_series_set_name_range(s, t.name.c_str(), 0, static_cast<lxw_col_t>(vc));
      if (h.kind == ChartKind::pie) break;  // a pie shows one series
    }
    chart_title_set_name(chart, r.title.c_str());
    worksheet_insert_chart(ws, 1, static_cast<lxw_col_t>(t.columns.size() + 1), chart);
  }
  const lxw_error err = workbook_close(wb);
  if (err != LXW_NO_ERROR) {
    throw Error(Errc::io, tr("cannot write " + path + ": " + lxw_strerror(err),
                             "无法写入 " + path + "：" + lxw_strerror(err)));
  }
}

}  // namespace kehu
