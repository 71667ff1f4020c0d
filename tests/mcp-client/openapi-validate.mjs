// openapi-validate.mjs: validates the service's OpenAPI document with a real validator (@apidevtools/swagger-parser, OpenAPI 3.1).
// Usage: node openapi-validate.mjs <openapi.json URL>   Prints a JSON report; exits 1 when invalid.
import SwaggerParser from "@apidevtools/swagger-parser";

const [url] = process.argv.slice(2);
const report = {};
try {
	const res = await fetch(url);
	const doc = await res.json();
	const api = await SwaggerParser.validate(structuredClone(doc));
	report.valid = true;
	report.openapi = api.openapi;
	report.operations = Object.values(api.paths).flatMap((item) => Object.values(item)).length;
} catch (e) {
	report.valid = false;
	report.error = String(e && e.message ? e.message : e).slice(0, 2000);
}
process.stdout.write(JSON.stringify(report) + "\n");
process.exit(report.valid ? 0 : 1);
