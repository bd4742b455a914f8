// The previous majors, installed under aliases, are tested with the current majors' types.
declare module "express4" {
  import express from "express";
  export default express;
}
declare module "koa2" {
  import Koa from "koa";
  export default Koa;
}
