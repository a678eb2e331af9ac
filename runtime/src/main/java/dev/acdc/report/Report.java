package dev.acdc.report;

/**
 * A report of one acdc run, as a typed record: the records are the schema. Jackson writes each to the
 * JSON file and reads it back ({@link ReportSchema#read}); the Markdown, HTML and console renderers take
 * the record, so a saved report renders exactly as the run that wrote it did.
 */
public sealed interface Report permits CompressReport, TrainingReport, QuantizeReport {
    /** {@link ReportSchema#VERSION} when written by this acdc. */
    int schemaVersion();

    /** compress, finetune, train or quantize. */
    String kind();

    /** Where the report comes from: the acdc version, the command line, the date, the preprocessing. */
    ReportSchema.Provenance acdc();

    /** One line: e.g. "top-1 -0.9 points, 7.6x smaller" or "not validated: accuracy unknown". */
    String verdict();
}
