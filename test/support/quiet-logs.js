// Handlers run in-process in the tests; their INFO logs would bury jest's output.
// Set POWERTOOLS_LOG_LEVEL=INFO to see them.
process.env.POWERTOOLS_LOG_LEVEL = process.env.POWERTOOLS_LOG_LEVEL || 'WARN';
