"""GraphQL operation texts, the same the official SDK (7.17) sends for the same calls.

Keeping the texts byte-identical means any server that answers the SDK answers us, and the
server's request log reads the same whichever client made the call.
"""

from __future__ import annotations

PROJECT_FIELDS = (
    "autoAuditNumberOfLabels autoAuditPercentage createdAt dataRowCount description "
    "editorTaskType isBenchmarkEnabled isConsensusEnabled lastActivityTime allowedMediaType "
    "modelSetupComplete name setupComplete id updatedAt uploadType"
)
DATASET_FIELDS = "createdAt description name rowCount id updatedAt"
MODEL_RUN_FIELDS = "createdAt createdBy modelAppId modelId name trainingMetadata id updatedAt"
MODEL_FIELDS = "name ontologyId id"
USER_FIELDS = (
    "createdAt email isExternalUser isViewer lastLoginAt nickname name picture id updatedAt"
)
BATCH_FIELDS = "consensusSettingsJson createdAt name size id updatedAt"
TASK_FIELDS = (
    "completionPercentage createdAt errors metadata name result status status type id updatedAt"
)

GET_PROJECT = (
    "query GetProjectPyApi($param_0: ID!){project(where: {id: $param_0}){" + PROJECT_FIELDS + "}}"
)
GET_DATASET = (
    "query GetDatasetPyApi($param_0: ID!){dataset(where: {id: $param_0}){" + DATASET_FIELDS + "}}"
)
GET_MODEL_RUN = (
    "query GetModelRunPyApi($param_0: ID!){modelRun(where: {id: $param_0}){"
    + MODEL_RUN_FIELDS + "}}"
)
GET_MODEL = "query GetModelPyApi($param_0: ID!){model(where: {id: $param_0}){" + MODEL_FIELDS + "}}"
GET_USER = "query GetUserPyApi{user{" + USER_FIELDS + "}}"
CURRENT_USER_TIMEZONE = "query CurrentUserPyApi { user { timezone } }"
GET_ORGANIZATION = "query GetOrganizationPyApi{organization{createdAt name id updatedAt}}"

# Offset-paged listings: the SDK formats skip/first into the text itself.
GET_PROJECTS = (
    "query GetProjectsPyApi($param_0: Boolean!){projects(where: {deleted: $param_0} "
    "skip: %d first: %d){" + PROJECT_FIELDS + "}}"
)
GET_DATASETS = (
    "query GetDatasetsPyApi($param_0: Boolean!){datasets(where: {deleted: $param_0} "
    "skip: %d first: %d){" + DATASET_FIELDS + "}}"
)
GET_MODELS = "query GetModelsPyApi{models(skip: %d first: %d){" + MODEL_FIELDS + "}}"
GET_MODEL_RUNS = (
    "query GetModelModelRunsPyApi($param_0: ID!){model(where: {id: $param_0})"
    "{modelRuns(skip: %d first: %d){" + MODEL_RUN_FIELDS + "}}}"
)
GET_USER_CREATED_TASKS = (
    "query GetUserCreatedTasksPyApi($param_0: ID!, $param_1: ID!){user(where: {id: $param_1})"
    "{createdTasks(where: {id: $param_0} skip: %d first: %d){" + TASK_FIELDS + "}}}"
)

# Cursor-paged, posted to the experimental endpoint (/_gql) like the SDK does.
GET_PROJECT_BATCHES = (
    "query GetProjectBatchesPyApi($from: String, $first: PageSize, $projectId: ID!) {\n"
    "            project(where: {id: $projectId}) {id\n"
    "            batches(after: $from, first: $first) { nodes { " + BATCH_FIELDS + " } "
    "pageInfo { endCursor }}}}\n        "
)

GET_CATALOG_SLICES = """query GetCatalogSavedQueriesPyApi {
                catalogSavedQueries {
                    id
                    name
                    description
                    filter
                    createdAt
                    updatedAt
                }
            }
            """
GET_SAVED_QUERY = """query getSavedQueryPyApi($id: ID!) {
                    getSavedQuery(id: $id) {
                        id
                        name
                        description
                        filter
                        createdAt
                        updatedAt
                    }
                }
            """

EXPORT_MUTATIONS: dict[str, tuple[str, str]] = {
    # kind -> (operation text, result field)
    kind: (
        f"mutation {name}PyApi($input: {input_type}!)"
        f"{{{name}(input: $input){{taskId isStreamable}}}}",
        name,
    )
    for kind, name, input_type in (
        ("project", "exportDataRowsInProject", "ExportDataRowsInProjectInput"),
        ("catalog", "exportDataRowsInCatalog", "ExportDataRowsInCatalogInput"),
        ("slice", "exportDataRowsInSlice", "ExportDataRowsInSliceInput"),
        ("model_run", "exportDataRowsInModelRun", "ExportDataRowsInModelRunInput"),
    )
}

GET_EXPORT_METADATA_HEADER = (
    "query GetExportMetadataHeaderPyApi($where: WhereUniqueIdInput, $streamType: "
    "TaskStreamType!){task(where: $where){exportMetadataHeader(streamType: $streamType)"
    "{totalSize totalLines}}}"
)
GET_EXPORT_FILE_FROM_OFFSET = (
    "query GetExportFileFromOffsetPyApi($where: WhereUniqueIdInput, $streamType: "
    "TaskStreamType!, $offset: UInt64!){task(where: $where){exportFileFromOffset(streamType: "
    "$streamType, offset: $offset){offsets {start end} lines {start end} file}}}"
)
GET_EXPORT_FILE_FROM_LINE = (
    "query GetExportFileFromLinePyApi($where: WhereUniqueIdInput, $streamType: "
    "TaskStreamType!, $line: UInt64!){task(where: $where){exportFileFromLine(streamType: "
    "$streamType, line: $line){offsets {start end} lines {start end} file}}}"
)
# An extension of the local export server (Labelbox's API has no such mutation).
CANCEL_EXPORT_TASK = (
    "mutation CancelExportTaskPyApi($taskId: ID!){cancelExportTask(taskId: $taskId)"
    "{id status}}"
)
