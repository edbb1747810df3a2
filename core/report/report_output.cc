// Reports as text cells, JSON and CSV (kehu/reports.h).
#include <cmath>
#include <cstdio>
#include <fstream>

#include "kehu/error.h"
#include "kehu/lang.h"
#include "kehu/reports.h"
#include "kehu/text.h"

namespace kehu {

Cell Cell::of_text(std::string t, std::string k) {
  Cell c;
  c.kind = CellKind::text;
  c.text = std::move(t);
  c.key = std::move(k);
  return c;
}

Cell Cell::of_int(std::int64_t n) {
  Cell c;
  c.kind = CellKind::integer;
  c.number = n;
  return c;
}

Cell Cell::of_money(std::int64_t fen) {
  Cell c;
  c.kind = CellKind::money;
  c.number = fen;
  return c;
}

Cell Cell::of_percent(std::optional<double> p) {
  Cell c;
  if (!p) return c;
  c.kind = CellKind::percent;
  c.percent = *p;
  return c;
}

std::string cell_text(const Cell& c) {
  switch (c.kind) {
    case CellKind::empty:
      return {};
    case CellKind::text:
      return c.text;
    case CellKind::integer:
      return std::to_string(c.number);
    case CellKind::money: {
      const std::int64_t abs = c.number < 0 ? -c.number : c.number;
      char buf[48];
      std::snprintf(buf, sizeof buf, "%s%lld.%02lld", c.number < 0 ? "-" : "",
                    static_cast<long long>(abs / 100), static_cast<long long>(abs % 100));
      return buf;
    }
    case CellKind::percent: {
      char buf[48];
      std::snprintf(buf, sizeof buf, "%.1f%%", c.percent);
      return buf;
    }
  }
  return {};
}

json report_json(const Report& r) {
  json tables = json::array();
  for (const auto& t : r.tables) {
    json cols = json::array();
    for (const auto& c : t.columns) cols.push_back(c.key);
    json rows = json::array();
    for (const auto& row : t.rows) {
      json o = json::object();
      for (std::size_t i = 0; i < row.size() && i < t.columns.size(); ++i) {
        const Cell& c = row[i];
        json v;
        switch (c.kind) {
          case CellKind::empty:
            break;
          case CellKind::text:
            v = c.key.empty() ? c.text : c.key;
            break;
          case CellKind::integer:
          case CellKind::money:
            v = c.number;
            break;
          case CellKind::percent:
            v = std::round(c.percent * 10) / 10;
            break;
        }
        o[t.columns[i].key] = v;
      }
      rows.push_back(std::move(o));
    }
    tables.push_back({{"name", t.name}, {"columns", cols}, {"rows", rows}});
  }
  return {{"report", r.name}, {"title", r.title}, {"tables", tables}, {"notes", r.notes}};
}

void write_report_csv(const Report& r, Lang lang, const std::string& path) {
  std::string out = "\xEF\xBB\xBF";
  bool first = true;
  for (const auto& t : r.tables) {
    if (!first) out += "\r\n";
    first = false;
    std::string line;
    for (const auto& c : t.columns) line += (line.empty() ? "" : ",") + csv_escape(c.label(lang));
    out += line + "\r\n";
    for (const auto& row : t.rows) {
      std::string l;
      for (std::size_t i = 0; i < row.size(); ++i)
        l += (i ? "," : "") + csv_escape(cell_text(row[i]));
      out += l + "\r\n";
    }
  }
  std::ofstream f(path, std::ios::binary | std::ios::trunc);
  f << out;
  if (!f.flush()) throw Error(Errc::io, tr("cannot write " + path, "无法写入 " + path));
}

}  // namespace kehu
