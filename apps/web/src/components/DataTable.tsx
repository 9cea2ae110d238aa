// A table of figures on @tanstack/react-table: column definitions made with a column helper over
// `tableFeatures` (no extra features), rows keyed by `rowId`, headers as column headers.
import { tableFeatures, useTable, type TableOptions } from "@tanstack/react-table";

/** The features every figures table uses; make column helpers with `typeof dataTableFeatures`. */
export const dataTableFeatures = tableFeatures({});

export function DataTable<T extends object>({
  label,
  columns,
  rows,
  rowId,
  className = "journeys",
}: {
  label: string;
  columns: TableOptions<typeof dataTableFeatures, T>["columns"];
  rows: T[];
  rowId: (row: T) => string;
  className?: string;
}) {
  const table = useTable({ features: dataTableFeatures, columns, data: rows, getRowId: rowId });
  return (
    <table className={className} aria-label={label}>
      <thead>
        {table.getHeaderGroups().map((group) => (
          <tr key={group.id}>
            {group.headers.map((header) => (
              <th key={header.id} scope="col">
                {header.isPlaceholder ? null : <table.FlexRender header={header} />}
              </th>
            ))}
          </tr>
        ))}
      </thead>
      <tbody>
        {table.getRowModel().rows.map((row) => (
          <tr key={row.id}>
            {row.getAllCells().map((cell) => (
              <td key={cell.id}>
                <table.FlexRender cell={cell} />
              </td>
            ))}
          </tr>
        ))}
      </tbody>
    </table>
  );
}
